package client

import (
	"context"
	"crypto/ed25519"
	"time"

	"github.com/lango-pos/lango/terminal"
)

// Outbox is what sync needs of the terminal's store (*sqlite.DB is one):
// the events to upload and how far the hub holds them, the identity and
// key that sign the requests, and where what the hub sends down is
// applied. Each method is one short transaction: sync never holds the
// store across the network.
type Outbox interface {
	Identity(ctx context.Context) (terminal.Identity, error)
	TerminalKey(ctx context.Context) (ed25519.PrivateKey, error)
	Authorities(ctx context.Context) ([]ed25519.PublicKey, error)
	Setting(ctx context.Context, key string) (string, error)
	// Enrolled records the hub's certificate, authorities and URL.
	Enrolled(ctx context.Context, certPEM, authorityPubPEM []byte, hubURL string) error

	// Events returns up to limit events after afterSeq, oldest first.
	Events(ctx context.Context, afterSeq int64, limit int) ([]terminal.Event, error)
	EventHash(ctx context.Context, seq int64) (string, error)
	SyncState(ctx context.Context) (terminal.SyncState, error)
	// SyncAcked records that hubID holds every event through seq.
	SyncAcked(ctx context.Context, hubID string, seq int64) error
	RecordSyncAttempt(ctx context.Context, a terminal.SyncAttempt) error
	SetClockOffset(ctx context.Context, d time.Duration) error

	FeedCursors(ctx context.Context) (map[string]int64, error)
	ApplyFeed(ctx context.Context, events []terminal.FeedEvent, peers []terminal.FeedPeer) (int, error)
	RevocationCursor(ctx context.Context) (int64, error)
	ApplyRevocations(ctx context.Context, rs []terminal.Revocation) error
	ApplyHubCatalogue(ctx context.Context, cat *terminal.Catalogue, seq int64) error
	RefuseHubCatalogue(ctx context.Context, seq int64, version, reason string) error
}
