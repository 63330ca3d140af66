package hub

import "context"

// TerminalList is the report's terminals alone (lango-hub terminal list),
// from the terminals' rows: it reads no event, where the whole report
// reads every money event the hub holds (issue 19: a listing costs what it
// returns).
func (h *Hub) TerminalList(ctx context.Context) ([]ReportTerminal, error) {
	ts, err := h.store.Terminals(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ReportTerminal, 0, len(ts))
	for _, t := range ts {
		rt := ReportTerminal{Site: t.Site, Name: t.Name, TerminalID: t.ID, Events: t.Events, LastSeq: t.LastSeq, Revoked: t.Revoked(), Relay: t.Relay}
		if !t.LastSeen.IsZero() {
			seen := t.LastSeen
			rt.LastSeen = &seen
		}
		out = append(out, rt)
	}
	return out, nil
}
