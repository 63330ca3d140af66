package emulator

import (
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
)

var jobName = regexp.MustCompile(`^job-(\d{6,})\.png$`)

// DirSink writes each job to dir as job-NNNNNN.png, numbering on from the
// highest number already there so that restarts never overwrite a job. A
// file appears whole: it is written under a temporary name and renamed.
func DirSink(dir string) (Sink, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("emulator output folder: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("emulator output folder: %w", err)
	}
	next := 0
	for _, ent := range ents {
		if m := jobName.FindStringSubmatch(ent.Name()); m != nil {
			n, _ := strconv.Atoi(m[1])
			next = max(next, n)
		}
	}
	var mu sync.Mutex
	return func(p Page) error {
		mu.Lock()
		defer mu.Unlock()
		next++
		name := filepath.Join(dir, fmt.Sprintf("job-%06d.png", next))
		f, err := os.CreateTemp(dir, ".job-*.png.tmp")
		if err != nil {
			return fmt.Errorf("write job: %w", err)
		}
		defer os.Remove(f.Name())
		if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(f, p.Image); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", name, err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		if err := os.Rename(f.Name(), name); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		return nil
	}, nil
}
