package hubtest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/hub/mpesa"
)

// mpesaLedger: the M-PESA ledger in the store. A payment is one row per
// code whoever delivers it and however often, concurrent deliveries
// included (the database's key decides, so two hub processes sharing it
// agree); the first word wins. Status queries are found by conversation,
// an unknown one refused; the pull cursor never goes back.
func mpesaLedger(t *testing.T, s hub.Store) {
	ctx := context.Background()
	p := mpesa.Payment{Code: "SAA0000001", Amount: 530000, Account: "NNP", ShortCode: "222222", At: t0, Source: "c2b"}
	if added, err := s.AddMpesaPayment(ctx, p, t0.Add(time.Second)); err != nil || !added {
		t.Fatalf("first delivery: %v, %v; want added", added, err)
	}
	again := p
	again.Amount, again.Source = 999900, "pull"
	if added, err := s.AddMpesaPayment(ctx, again, t0.Add(time.Minute)); err != nil || added {
		t.Fatalf("repeat delivery: %v, %v; want not added", added, err)
	}
	got, ok, err := s.MpesaPayment(ctx, p.Code)
	if err != nil || !ok || got.Amount != p.Amount || got.Source != "c2b" || got.Account != "NNP" || got.ShortCode != "222222" || !got.At.Equal(t0) {
		t.Fatalf("payment held: %+v, %v, %v; want the first delivery %+v", got, ok, err, p)
	}
	if _, ok, err := s.MpesaPayment(ctx, "SAA0000099"); err != nil || ok {
		t.Fatalf("payment never delivered: %v, %v; want not held", ok, err)
	}

	// The same confirmation to many processes at once: one row.
	var wg sync.WaitGroup
	var mu sync.Mutex
	addedN := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			added, err := s.AddMpesaPayment(ctx, mpesa.Payment{Code: "SAA0000002", Amount: 100, ShortCode: "222222", At: t0, Source: "c2b"}, t0)
			if err != nil {
				t.Error(err)
			}
			if added {
				mu.Lock()
				addedN++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if addedN != 1 {
		t.Errorf("eight concurrent deliveries of one code: %d added; want 1", addedN)
	}

	// Status queries.
	if _, err := s.MpesaConversation(ctx, "AG_nope"); !errors.Is(err, mpesa.ErrUnknownConversation) {
		t.Errorf("unknown conversation: %v; want ErrUnknownConversation", err)
	}
	if _, err := s.AnsweredMpesa(ctx, "AG_nope", 0, "ok", t0); !errors.Is(err, mpesa.ErrUnknownConversation) {
		t.Errorf("answer to an unknown conversation: %v; want ErrUnknownConversation", err)
	}
	must(t, s.AskedMpesa(ctx, "SAA0000003", "AG_1", t0))
	if q, ok, err := s.MpesaQuery(ctx, "SAA0000003"); err != nil || !ok || q.Answered || q.ConversationID != "AG_1" || !q.AskedAt.Equal(t0) {
		t.Fatalf("query asked: %+v, %v, %v", q, ok, err)
	}
	if code, err := s.MpesaConversation(ctx, "AG_1"); err != nil || code != "SAA0000003" {
		t.Errorf("conversation AG_1: %q, %v; want SAA0000003", code, err)
	}
	if code, err := s.AnsweredMpesa(ctx, "AG_1", 2001, "The initiator information is invalid.", t0.Add(time.Minute)); err != nil || code != "SAA0000003" {
		t.Fatalf("answer: %q, %v", code, err)
	}
	if q, _, err := s.MpesaQuery(ctx, "SAA0000003"); err != nil || !q.Answered || q.ResultCode != 2001 || q.ResultDesc == "" || !q.AnsweredAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("query answered: %+v, %v", q, err)
	}
	// Asked again: a new conversation, unanswered; the old one is gone.
	must(t, s.AskedMpesa(ctx, "SAA0000003", "AG_2", t0.Add(time.Hour)))
	if q, _, err := s.MpesaQuery(ctx, "SAA0000003"); err != nil || q.Answered || q.ConversationID != "AG_2" {
		t.Errorf("query asked again: %+v, %v; want AG_2 unanswered", q, err)
	}
	if _, err := s.MpesaConversation(ctx, "AG_1"); !errors.Is(err, mpesa.ErrUnknownConversation) {
		t.Errorf("the replaced conversation: %v; want ErrUnknownConversation", err)
	}
	if _, ok, err := s.MpesaQuery(ctx, "SAA0000004"); err != nil || ok {
		t.Errorf("query never asked: %v, %v", ok, err)
	}

	// Pull cursors, by paybill, never back.
	if _, ok, err := s.MpesaPullCursor(ctx, "222222"); err != nil || ok {
		t.Fatalf("cursor never set: %v, %v", ok, err)
	}
	must(t, s.SetMpesaPullCursor(ctx, "222222", t0.Add(2*time.Hour)))
	must(t, s.SetMpesaPullCursor(ctx, "222222", t0.Add(time.Hour)))
	must(t, s.SetMpesaPullCursor(ctx, "333333", t0))
	if at, ok, err := s.MpesaPullCursor(ctx, "222222"); err != nil || !ok || !at.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("cursor of 222222: %v, %v, %v; want %v (never back)", at, ok, err, t0.Add(2*time.Hour))
	}
	if at, _, err := s.MpesaPullCursor(ctx, "333333"); err != nil || !at.Equal(t0) {
		t.Errorf("cursor of 333333: %v, %v; want %v", at, err, t0)
	}

	n, err := s.Counts(ctx)
	must(t, err)
	if n["mpesa_payments"] != 2 || n["mpesa_queries"] != 1 {
		t.Errorf("counts %v; want 2 M-PESA payments and 1 query", n)
	}
}
