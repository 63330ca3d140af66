package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/printer"
)

// TestPrinterDetect: `lango printer detect --port LINK` asks the emulated
// TM-T20 on a pseudo-terminal who it is and proposes its profile; a port
// with no printer is exit 3.
func TestPrinterDetect(t *testing.T) {
	prof, err := printer.LookupProfile("epson-tm-t20")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	em, err := printer.NewEmulator(prof, filepath.Join(dir, "out"), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "ttyPRN")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- printer.ServePTY(ctx, link, em) }()
	t.Cleanup(func() { cancel(); <-done })
	for i := 0; i < 100 && !exists(link); i++ {
		time.Sleep(10 * time.Millisecond) // the emulator creates the link
	}
	c := newCLI(t)
	var d printer.Detection
	if err := json.Unmarshal([]byte(c.ok("printer", "detect", "--port", link, "--json")), &d); err != nil {
		t.Fatal(err)
	}
	if d.Profile != "epson-tm-t20" || !d.NativeQR || d.Model != "TM-T20" {
		t.Errorf("detected %+v; want epson-tm-t20 with native QR", d)
	}
	out := c.ok("printer", "detect", "--port", link)
	if !strings.Contains(out, "lango config set printer 'serial:"+link+"?baud=9600&profile=epson-tm-t20'") {
		t.Errorf("output %q does not propose the setting", out)
	}
	c.refused(3, "no printer port", "printer", "detect", "--port", filepath.Join(dir, "nothing"))
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
