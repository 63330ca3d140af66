package hub

import (
	"context"
	"encoding/json"

	"github.com/lango-pos/lango/sync/hub/bank"
	"github.com/lango-pos/lango/terminal"
)

// scanBankTenders reads every event for the bank references the terminals
// recorded (bank.used events: tenders of sales and settlements, and cash
// deposits), for RescanReport: Report has them from the state kept at
// ingest (FactBank). A voided sale's tender is left out: its credit, if
// the bank has it, is unclaimed, money to give back.
func (h *Hub) scanBankTenders(ctx context.Context) ([]bank.Tender, error) {
	voided := map[[2]string]bool{}
	var tenders []bank.Tender
	err := h.store.ScanEvents(ctx, []string{terminal.EventSaleVoided, terminal.EventBankUsed}, func(e StoredEvent) error {
		switch e.Type {
		case terminal.EventSaleVoided:
			var p terminal.SaleVoid
			if json.Unmarshal(e.Payload, &p) == nil && p.SaleID != "" {
				voided[[2]string{e.Site, p.SaleID}] = true
			}
		case terminal.EventBankUsed:
			var p terminal.BankUsed
			if json.Unmarshal(e.Payload, &p) != nil || p.Bank == "" || p.Reference == "" || p.Amount <= 0 {
				return nil
			}
			kind := "tender"
			if p.DepositID != "" {
				kind = "deposit"
			}
			tenders = append(tenders, bank.Tender{Kind: kind, Bank: p.Bank, Reference: p.Reference, Currency: p.Currency, Amount: p.Amount,
				Site: e.Site, Terminal: e.Name, SaleID: p.SaleID, SettlementID: p.SettlementID, ShiftID: p.ShiftID, At: e.At})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	kept := tenders[:0]
	for _, t := range tenders {
		if t.SaleID != "" && voided[[2]string{t.Site, t.SaleID}] {
			continue
		}
		kept = append(kept, t)
	}
	return kept, nil
}
