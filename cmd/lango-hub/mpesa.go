package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/lango-pos/lango/sync/hub/mpesa"
)

// importMpesaLedger moves the M-PESA ledger an older hub kept in
// DIR/mpesa.db into st, the hub's store, once: the file is renamed
// mpesa.db.imported after. Every command that opens the store does it
// (serve, report, migrate, copy's source), so whichever runs first after
// an upgrade carries the ledger across; a payment already in the store is
// kept as it is.
func importMpesaLedger(ctx context.Context, st mpesa.Ledger, dir string, log *slog.Logger) error {
	path := filepath.Join(dir, "mpesa.db")
	p, q, err := mpesa.ImportFile(ctx, path, st)
	if err != nil {
		return fmt.Errorf("import the M-PESA ledger of %s: %w", dir, err)
	}
	if p+q > 0 && log != nil {
		log.Info("imported the M-PESA ledger into the hub's database", "file", path, "payments", p, "queries", q, "set_aside", path+".imported")
	}
	return nil
}
