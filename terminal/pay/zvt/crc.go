package zvt

// crc16 returns the ZVT frame check sequence of data, continuing from crc
// (start with 0): CRC-16/CCITT in its reflected form, polynomial 0x8408,
// initial value 0, no final XOR — the variant also catalogued as
// CRC-16/KERMIT (check value 0x2189 for "123456789"). A frame's CRC covers
// the unstuffed APDU and the ETX byte, and is sent low byte first.
func crc16(crc uint16, data []byte) uint16 {
	for _, b := range data {
		crc ^= uint16(b)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0x8408
			} else {
				crc >>= 1
			}
		}
	}
	return crc
}

// frameCRC is the CRC of a frame carrying apdu: over apdu followed by ETX.
func frameCRC(apdu []byte) uint16 {
	return crc16(crc16(0, apdu), []byte{etx})
}
