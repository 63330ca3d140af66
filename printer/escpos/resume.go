package escpos

// A job that stops part way must stop where the paper shows only whole
// things, and must be able to go on from there: see docs/ESCPOS.md,
// "Interrupted jobs".

// StopPoint returns the first offset at or after sent where job may stop
// without leaving a partial image or line on the paper: past the end of
// the image that sent falls in (a run of GS v 0 bands with nothing between
// them, or a run of lines of ESC * bit images, up to the ESC 2 after it), else past the next command that prints the line
// buffer (LF, ESC d, ESC J, FF, a cut, a native QR printed). A job that
// stops there, followed by ESC @, leaves the printer with an empty line
// buffer and the paper holding whole lines and whole images only.
// Offsets at or past the end return len(job).
func StopPoint(job []byte, sent int) int {
	if sent <= 0 {
		return 0
	}
	var prev Command
	lineImage, prevLineImage := false, false // the line being built, the last printed, hold an ESC * image
	for pos := 0; pos < len(job); {
		c, err := Next(job[pos:])
		if err != nil {
			return len(job)
		}
		if pos >= sent && pos > 0 {
			inImage := (prev.Op == OpRaster && c.Op == OpRaster) ||
				(prevLineImage && emptiesLine(prev) && (c.Op == OpBitImage || c.Op == OpLineSpacing6))
			if !inImage && emptiesLine(prev) {
				return pos
			}
		}
		if c.Op == OpBitImage {
			lineImage = true
		}
		if emptiesLine(c) {
			prevLineImage, lineImage = lineImage, false
		}
		prev = c
		pos += len(c.Raw)
	}
	return len(job)
}

// emptiesLine reports whether command c leaves the line buffer empty: a
// line feed, a feed, a cut, a printed QR symbol, or an image (GS v 0 is
// printed outside the line buffer).
func emptiesLine(c Command) bool {
	switch c.Op {
	case OpControl:
		return len(c.Raw) == 1 && (c.Raw[0] == LF || c.Raw[0] == FF)
	case OpFeedDots, OpFeedLines, OpCut, OpRaster:
		return true
	case OpSymbol:
		// GS ( k pL pH cn fn m: fn 81 prints the stored symbol.
		return len(c.Raw) >= 7 && c.Raw[6] == 81
	}
	return false
}

// modeOps are the commands that set a mode and print nothing: replayed
// before the rest of an interrupted job so it prints as it would have.
var modeOps = map[Op]bool{
	OpPrintMode: true, OpCharSpacing: true, OpUnderline: true, OpLineSpacing6: true,
	OpLineSpacing: true, OpTabs: true, OpBold: true, OpDoubleStrike: true, OpFont: true,
	OpAlign: true, OpCodePage: true, OpUpsideDown: true, OpCharSize: true, OpReverse: true,
	OpLeftMargin: true, OpAreaWidth: true, OpKanjiOn: true, OpKanjiOff: true,
	MakeOp(FS, '(', 'A'): true, MakeOp(FS, 'S', 0): true, MakeOp(FS, '-', 0): true,
}

// ResumePrefix is what goes before job[at:] when a job interrupted at
// at (a StopPoint) is resumed: ESC @, then every mode command of job[:at]
// in order (alignment, code page, emphasis, sizes, line spacing…), so the
// printer is in the state it was in at at, and nothing of job[:at] prints
// again. An at of 0 or less returns nil.
func ResumePrefix(job []byte, at int) []byte {
	if at <= 0 {
		return nil
	}
	out := []byte{ESC, '@'}
	for p := 0; p < at && p < len(job); {
		c, err := Next(job[p:])
		if err != nil {
			break
		}
		if modeOps[c.Op] {
			out = append(out, c.Raw...)
		}
		p += len(c.Raw)
	}
	return out
}

// PrintedWhole returns the end of the last command of job[from:sent] that
// leaves the line buffer empty (a line feed, a feed, a cut, a printed QR
// symbol, one GS v 0 band), or from if none ends by sent: once the printer
// has processed job[:sent], the paper holds job[:PrintedWhole] exactly,
// and what follows it (a line not yet fed, the rest of a band) is in the
// printer's buffer, which the session start's clear (DLE DC4 8) drops. So
// it is a point a job can go on from (PrintFrom) after the sender died
// with job[:sent] written: images go on band by band, ESC * lines line by
// line, with nothing printed twice. from must be a command boundary, sent
// is clamped to the job.
func PrintedWhole(job []byte, from, sent int) int {
	whole := from
	for pos := from; pos < min(sent, len(job)); {
		c, err := Next(job[pos:])
		if err != nil || pos+len(c.Raw) > sent {
			break
		}
		pos += len(c.Raw)
		if emptiesLine(c) {
			whole = pos
		}
	}
	return whole
}
