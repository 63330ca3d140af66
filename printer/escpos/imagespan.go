package escpos

// ImageSpan is where job's image starts and ends: from the first image
// command (GS v 0 band or ESC * line) to the end of the last one; ok is
// false when the job holds no image or does not decode.
func ImageSpan(job []byte) (start, end int, ok bool) {
	start = -1
	for pos := 0; pos < len(job); {
		c, err := Next(job[pos:])
		if err != nil {
			return 0, 0, false
		}
		if c.Op == OpRaster || c.Op == OpBitImage {
			if start < 0 {
				start = pos
			}
			end = pos + len(c.Raw)
		}
		pos += len(c.Raw)
	}
	return start, end, start >= 0
}
