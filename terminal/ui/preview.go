package ui

import (
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// wantPreview asks the status worker to show, through show, the newest PNG
// the printer emulator writes in PreviewDir after t: the printed pass.
func (k *Kiosk) wantPreview(t time.Time, show func(image.Image)) {
	if k.o.PreviewDir == "" {
		return
	}
	k.previewMu.Lock()
	k.previewAfter, k.previewShow = t, show
	k.previewMu.Unlock()
}

// watchPrint asks the status worker to call done (on the UI goroutine)
// once the spool has marked job printed: the screen's "printing" becomes
// "printed". A later call replaces the wish.
func (k *Kiosk) watchPrint(job string, done func()) {
	if job == "" {
		return
	}
	k.previewMu.Lock()
	k.printJob, k.printDone = job, done
	k.previewMu.Unlock()
}

// findPrinted returns the done of the job watched once it has printed, and
// forgets the wish. It runs on the worker.
func (k *Kiosk) findPrinted(ctx context.Context) func() {
	k.previewMu.Lock()
	job, done := k.printJob, k.printDone
	k.previewMu.Unlock()
	if job == "" || done == nil {
		return nil
	}
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	pj, err := k.o.Store.PrintJob(c, job)
	if err != nil || pj.PrintedAt == nil {
		return nil // not yet, or the store is busy: next tick
	}
	k.previewMu.Lock()
	if k.printJob == job {
		k.printJob, k.printDone = "", nil
	}
	k.previewMu.Unlock()
	return done
}

// findPreview returns the image wanted, once it exists, and forgets the
// wish. It runs on the worker.
func (k *Kiosk) findPreview() (image.Image, func(image.Image)) {
	k.previewMu.Lock()
	after, show := k.previewAfter, k.previewShow
	k.previewMu.Unlock()
	if after.IsZero() || show == nil {
		return nil, nil
	}
	path, mod := newestPNG(k.o.PreviewDir)
	if path == "" || mod.Before(after) {
		return nil, nil
	}
	img, err := readPNG(path)
	if err != nil {
		return nil, nil // half-written: try again next tick
	}
	k.previewMu.Lock()
	if k.previewAfter.Equal(after) {
		k.previewAfter, k.previewShow = time.Time{}, nil
	}
	k.previewMu.Unlock()
	return img, show
}

// newestPNG returns the most recently written .png file of dir.
func newestPNG(dir string) (string, time.Time) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", time.Time{}
	}
	var best string
	var bestT time.Time
	for _, e := range ents {
		if e.IsDir() || !strings.EqualFold(filepath.Ext(e.Name()), ".png") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		if info.ModTime().After(bestT) {
			best, bestT = filepath.Join(dir, e.Name()), info.ModTime()
		}
	}
	return best, bestT
}

func readPNG(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return png.Decode(f)
}
