package zvt

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/lango-pos/lango/terminal"
)

// Txn is one transaction in the emulator's journal.
type Txn struct {
	Trace      int               `json:"trace"`
	Receipt    int               `json:"receipt"`
	Amount     int64             `json:"amount"` // minor units
	Currency   terminal.Currency `json:"currency"`
	Approved   bool              `json:"approved"`
	ResultCode int               `json:"result_code"`
	Approval   string            `json:"approval,omitempty"`
	PAN        string            `json:"pan,omitempty"` // masked
	CardName   string            `json:"card_name,omitempty"`
	Time       time.Time         `json:"time"`
	// Delivered: the ECR acknowledged the result (status information).
	Delivered bool `json:"delivered"`
}

// journal is the emulator's transaction record, optionally kept in a JSON
// file that is replaced atomically (temp file, fsync, rename) after every
// change, so an emulator restarted after a crash still knows its last
// transaction.
type journal struct {
	path        string
	NextTrace   int   `json:"next_trace"`
	NextReceipt int   `json:"next_receipt"`
	Txns        []Txn `json:"transactions"`
}

func loadJournal(path string) (*journal, error) {
	j := &journal{path: path, NextTrace: 1, NextReceipt: 1}
	if path == "" {
		return j, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return j, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read PDQ journal: %w", err)
	}
	if err := json.Unmarshal(b, j); err != nil {
		return nil, fmt.Errorf("PDQ journal %s: %w", path, err)
	}
	if j.NextTrace < 1 || j.NextTrace > 999999 || j.NextReceipt < 1 || j.NextReceipt > 9999 {
		return nil, fmt.Errorf("PDQ journal %s: counters out of range", path)
	}
	return j, nil
}

// add records t with the next trace and receipt numbers and saves.
func (j *journal) add(t Txn) (Txn, error) {
	t.Trace, t.Receipt = j.NextTrace, j.NextReceipt
	j.NextTrace = j.NextTrace%999999 + 1
	j.NextReceipt = j.NextReceipt%9999 + 1
	j.Txns = append(j.Txns, t)
	if err := j.save(); err != nil {
		j.Txns = j.Txns[:len(j.Txns)-1]
		j.NextTrace, j.NextReceipt = t.Trace, t.Receipt
		return Txn{}, err
	}
	return t, nil
}

func (j *journal) markDelivered(trace int) error {
	for i := len(j.Txns) - 1; i >= 0; i-- {
		if j.Txns[i].Trace == trace {
			j.Txns[i].Delivered = true
			return j.save()
		}
	}
	return nil
}

func (j *journal) last() (Txn, bool) {
	if len(j.Txns) == 0 {
		return Txn{}, false
	}
	return j.Txns[len(j.Txns)-1], true
}

func (j *journal) save() error {
	if j.path == "" {
		return nil
	}
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return fmt.Errorf("PDQ journal: %w", err)
	}
	dir := filepath.Dir(j.path)
	f, err := os.CreateTemp(dir, ".pdq-journal-*")
	if err != nil {
		return fmt.Errorf("PDQ journal: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("PDQ journal: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("PDQ journal: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("PDQ journal: %w", err)
	}
	if err := os.Rename(tmp, j.path); err != nil {
		return fmt.Errorf("PDQ journal: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return fmt.Errorf("PDQ journal: sync %s: %w", dir, err)
		}
	}
	return nil
}
