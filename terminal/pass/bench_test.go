package pass

import (
	"crypto/ed25519"
	"testing"
	"time"
)

// Benchmarks for docs/PASS-FORMAT.md §Benchmarks:
//
//	go test ./terminal/pass -run '^$' -bench . -benchtime 2s -count 3
//
// BenchmarkEd25519Verify is the bound: a bare ed25519.Verify of a message
// as long as the typical pass's signed part. BenchmarkVerify/warm is the
// steady state (terminal certificate cached: one Verify per pass);
// BenchmarkVerify/cold a verifier that has never seen the terminal (two).

type benchFixture struct {
	w       *world
	text    string
	bin     []byte
	msg     []byte // what the terminal signed
	sig     []byte
	pub     ed25519.PublicKey
	now     time.Time
	typical Pass
}

func newBenchFixture(b *testing.B) *benchFixture {
	b.Helper()
	w := newWorld(b, "NNP", "GATE-2")
	f := &benchFixture{w: w, typical: typicalPass(b), now: t0.Add(time.Hour)}
	f.text = mustIssue(b, w.issuer["GATE-2"], f.typical)
	bin, err := DecodeText(f.text)
	if err != nil {
		b.Fatal(err)
	}
	f.bin = bin
	f.sig = bin[len(bin)-ed25519.SignatureSize:]
	f.msg = append([]byte(passContext), bin[:len(bin)-ed25519.SignatureSize]...)
	f.pub = w.certs["GATE-2"].PublicKey
	if !ed25519.Verify(f.pub, f.msg, f.sig) {
		b.Fatal("fixture signature does not verify")
	}
	return f
}

func reportRate(b *testing.B, unit string) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit)
}

func BenchmarkEd25519Verify(b *testing.B) {
	f := newBenchFixture(b)
	for b.Loop() {
		if !ed25519.Verify(f.pub, f.msg, f.sig) {
			b.Fatal("verify failed")
		}
	}
	reportRate(b, "verifies/s")
}

func BenchmarkVerify(b *testing.B) {
	f := newBenchFixture(b)
	b.Run("warm", func(b *testing.B) {
		v := f.w.verifier(b, "NNP")
		if _, err := v.Verify(f.text, f.now); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(f.text, f.now); err != nil {
				b.Fatal(err)
			}
		}
		reportRate(b, "passes/s")
	})
	b.Run("warm-binary", func(b *testing.B) {
		v := f.w.verifier(b, "NNP")
		if _, err := v.VerifyBinary(f.bin, f.now); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.VerifyBinary(f.bin, f.now); err != nil {
				b.Fatal(err)
			}
		}
		reportRate(b, "passes/s")
	})
	b.Run("cold", func(b *testing.B) {
		keys := []ed25519.PublicKey{f.w.auth.PublicKey()}
		b.ReportAllocs()
		for b.Loop() {
			v, err := NewVerifier(VerifierConfig{Site: "NNP", Authorities: keys})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := v.Verify(f.text, f.now); err != nil {
				b.Fatal(err)
			}
		}
		reportRate(b, "passes/s")
	})
	b.Run("parallel-warm", func(b *testing.B) {
		v := f.w.verifier(b, "NNP")
		if _, err := v.Verify(f.text, f.now); err != nil {
			b.Fatal(err)
		}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := v.Verify(f.text, f.now); err != nil {
					b.Error(err)
					return
				}
			}
		})
		reportRate(b, "passes/s")
	})
}

// BenchmarkVerifyVsBare alternates a bare ed25519.Verify and a warm pass
// verification in the same loop, so both see the same machine load, and
// reports the pass rate as a percentage of the bare rate.
func BenchmarkVerifyVsBare(b *testing.B) {
	f := newBenchFixture(b)
	v := f.w.verifier(b, "NNP")
	if _, err := v.Verify(f.text, f.now); err != nil {
		b.Fatal(err)
	}
	var bare, pass time.Duration
	for b.Loop() {
		s := time.Now()
		if !ed25519.Verify(f.pub, f.msg, f.sig) {
			b.Fatal("verify failed")
		}
		m := time.Now()
		if _, err := v.Verify(f.text, f.now); err != nil {
			b.Fatal(err)
		}
		e := time.Now()
		bare += m.Sub(s)
		pass += e.Sub(m)
	}
	b.ReportMetric(float64(b.N)/bare.Seconds(), "bare-verifies/s")
	b.ReportMetric(float64(b.N)/pass.Seconds(), "passes/s")
	b.ReportMetric(100*bare.Seconds()/pass.Seconds(), "%-of-bare")
}

func BenchmarkEd25519Sign(b *testing.B) {
	f := newBenchFixture(b)
	key := f.w.keys["GATE-2"]
	for b.Loop() {
		ed25519.Sign(key, f.msg)
	}
	reportRate(b, "signs/s")
}

// BenchmarkIssue is the cost of issuing: validate, encode, sign, text.
func BenchmarkIssue(b *testing.B) {
	f := newBenchFixture(b)
	is := f.w.issuer["GATE-2"]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := is.Issue(f.typical); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, "passes/s")
}

// BenchmarkQR is the cost of the QR image the printer gets.
func BenchmarkQR(b *testing.B) {
	f := newBenchFixture(b)
	for b.Loop() {
		if _, err := QRImage(f.text, 5); err != nil {
			b.Fatal(err)
		}
	}
}
