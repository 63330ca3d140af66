package pass

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"time"
)

// Flags of a v1 pass (byte 1). Other bits must be zero.
const (
	flagCert     = 1 << 0 // the terminal's certificate is embedded; else its key id
	flagVehicle  = 1 << 1 // plate and seat band follow the party
	flagDeferred = 1 << 2 // payment deferred: amounts due follow; else paid
	flagsKnown   = flagCert | flagVehicle | flagDeferred
)

// MaxBinary bounds the binary form of a pass; the largest pass the bounds
// allow is smaller. Decoders refuse longer input before parsing it.
const MaxBinary = 1024

// appendBody writes the binary form of the canonical pass p without its
// signature: with cert embedded, or when cert is nil naming p.KeyID.
func appendBody(b []byte, p *Pass, cert *Certificate) []byte {
	var flags byte
	if cert != nil {
		flags |= flagCert
	}
	if p.Plate != "" {
		flags |= flagVehicle
	}
	if !p.Paid {
		flags |= flagDeferred
	}
	b = append(b, Version1, flags)
	b = appendStr(b, p.Site)
	if cert != nil {
		b = binary.BigEndian.AppendUint32(b, uint32(cert.Authority))
		b = cert.appendTail(b, true)
	} else {
		b = binary.BigEndian.AppendUint32(b, uint32(p.KeyID))
	}
	b = append(b, p.ID[:]...)
	b = appendUvarint(b, uint64(p.ValidUntil.Sub(p.IssuedAt)/time.Minute))
	b = appendStr(b, p.CatalogueVersion)
	b = append(b, byte(len(p.Party)))
	for _, l := range p.Party {
		b = appendCode(b, l.Category)
		b = appendCode(b, l.Band)
		b = appendUvarint(b, uint64(l.Count))
	}
	if p.Plate != "" {
		b = appendStr(b, p.Plate)
		if p.SeatBand == "" {
			b = append(b, 0) // a vehicle without a seat band
		} else {
			b = appendCode(b, p.SeatBand)
		}
	}
	if !p.Paid {
		b = append(b, byte(len(p.Due)))
		for _, a := range p.Due {
			b = append(b, a.Currency...)
			b = appendUvarint(b, uint64(a.Minor))
		}
	}
	return b
}

// envelope is a parsed, not yet verified, pass.
type envelope struct {
	pass     Pass
	embedded []byte       // the embedded certificate's bytes; nil for a compact pass
	cert     *Certificate // the embedded certificate, parsed; nil for a compact pass
	signed   []byte       // passContext, then the binary form up to the signature
	sig      []byte
}

// parseMessage parses msg, which is passContext followed by the binary form
// of a pass. It checks every field against the bounds of v1 and returns an
// error naming the first that is wrong. Slices in the result alias msg.
func parseMessage(msg []byte) (*envelope, error) {
	bin := msg[len(passContext):]
	if len(bin) > MaxBinary {
		return nil, fmt.Errorf("%d bytes; a pass has at most %d", len(bin), MaxBinary)
	}
	r := &reader{b: bin}
	e := &envelope{}
	p := &e.pass
	if v := r.u8("format version"); r.err == nil && v != Version1 {
		return nil, fmt.Errorf("format version %d; this terminal reads version %d", v, Version1)
	}
	p.Version = Version1
	flags := r.u8("flags")
	if flags&^flagsKnown != 0 {
		r.fail("flags %#02x: unknown bits set", flags)
	}
	p.Site = r.str("site", maxCodeLen, isCode)
	if flags&flagCert != 0 {
		start := r.off
		auth := r.keyID("authority key id")
		c := parseCertTail(r, p.Site)
		c.Authority = auth
		e.embedded = bin[start:r.off]
		e.cert = c
		if r.err == nil {
			p.Terminal = c.Terminal
			p.KeyID = c.KeyID()
		}
	} else {
		p.KeyID = r.keyID("terminal key id")
	}
	copy(p.ID[:], r.bytes(16, "pass id"))
	if r.err == nil {
		at, ok := idTime(p.ID)
		if !ok {
			r.fail("pass id %s is not a UUID v7", p.ID)
		}
		p.IssuedAt = at
	}
	mins := r.uvarint("validity", 1, maxValidityMin)
	p.ValidUntil = p.IssuedAt.Add(time.Duration(mins) * time.Minute)
	p.CatalogueVersion = r.str("catalogue version", maxCatalogueLen, isCatalogueVersion)
	n := int(r.u8("party size"))
	if n > MaxPartyLines {
		r.fail("party size: %d lines; at most %d", n, MaxPartyLines)
	}
	for i := 0; i < n && r.err == nil; i++ {
		l := PartyLine{Category: r.code("category"), Band: r.code("age band")}
		l.Count = int(r.uvarint("count", 1, MaxCount))
		if r.err == nil && i > 0 && comparePartyLines(p.Party[i-1], l) >= 0 {
			r.fail("party line %s/%s is out of order or repeated", l.Category, l.Band)
		}
		p.Party = append(p.Party, l)
	}
	if flags&flagVehicle != 0 {
		p.Plate = r.str("plate", maxPlateLen, isPlate)
		p.SeatBand = r.seatBand()
	} else if n == 0 && r.err == nil {
		r.fail("no visitors and no vehicle")
	}
	if flags&flagDeferred != 0 {
		m := int(r.u8("amounts due"))
		if r.err == nil && (m < 1 || m > MaxDue) {
			r.fail("amounts due: %d; a deferred pass owes 1 to %d", m, MaxDue)
		}
		for i := 0; i < m && r.err == nil; i++ {
			a := Amount{Currency: string(r.bytes(3, "currency"))}
			if r.err == nil && !isCurrency(a.Currency) {
				r.fail("currency %q is not three letters A–Z", a.Currency)
			}
			if r.err == nil && i > 0 && p.Due[i-1].Currency >= a.Currency {
				r.fail("currency %s is out of order or repeated", a.Currency)
			}
			a.Minor = int64(r.uvarint("amount", 1, uint64(MaxMinor)))
			p.Due = append(p.Due, a)
		}
	} else {
		p.Paid = true
	}
	end := r.off
	e.sig = r.bytes(ed25519.SignatureSize, "signature")
	if r.err == nil && r.off != len(bin) {
		r.fail("%d bytes after the signature", len(bin)-r.off)
	}
	if r.err != nil {
		return nil, r.err
	}
	e.signed = msg[:len(passContext)+end]
	return e, nil
}

// Parse decodes the binary form of a pass WITHOUT verifying anything but
// its shape: for display and diagnostics only. Terminal is empty for a
// compact pass. Use a Verifier to decide whether to honour a pass.
func Parse(b []byte) (Pass, error) {
	if len(b) > MaxBinary {
		return Pass{}, refuse(Malformed, fmt.Errorf("%d bytes; a pass has at most %d", len(b), MaxBinary))
	}
	msg := make([]byte, len(passContext)+len(b))
	copy(msg[len(passContext):], b)
	e, err := parseMessage(msg)
	if err != nil {
		return Pass{}, refuse(Malformed, err)
	}
	return e.pass, nil
}

// ParseText is Parse for the text form.
func ParseText(s string) (Pass, error) {
	b, err := DecodeText(s)
	if err != nil {
		return Pass{}, err
	}
	return Parse(b)
}
