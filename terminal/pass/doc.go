// Package pass implements Lango's signed gate pass, format v1: the compact
// binary form, its QR-friendly text form ("LG1:" followed by decimal digits),
// the site authority that certifies terminal keys, the issuer that signs
// passes on a terminal, the offline verifier, and QR images for the printer.
//
// docs/PASS-FORMAT.md is the specification; this package is its reference
// implementation. The package is pure Go with no I/O and does not import
// package terminal (terminal imports pass): money is plain ISO 4217 codes and
// int64 minor units here.
//
// The flow:
//
//	auth, _ := pass.NewAuthority(rand.Reader)            // hub, or standalone terminal
//	pub, key, _ := ed25519.GenerateKey(rand.Reader)      // the terminal's key pair
//	cert, _ := auth.Certify("NNP", "GATE-2", pub, from, until)
//	iss, _ := pass.NewIssuer(key, cert)
//	text, _ := iss.Issue(p)                              // "LG1:0072..." for the QR
//
//	v, _ := pass.NewVerifier(pass.VerifierConfig{Site: "NNP", Authorities: []ed25519.PublicKey{auth.PublicKey()}})
//	p, err := v.Verify(text, now)                        // *RefusedError with a contract reason
package pass
