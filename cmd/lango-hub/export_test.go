package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestExportCommand: lango-hub export refuses bad dates, formats and
// ranges as usage errors (exit 2, one line), and writes a CSV header or a
// JSON document for a hub with nothing in the range.
func TestExportCommand(t *testing.T) {
	data := t.TempDir()
	for _, tt := range []struct {
		msg  string
		args []string
	}{
		{"export needs --from DATE and --to DATE", []string{"--from", "2025-01-03"}},
		{`--from "03/01/2025" is not a date`, []string{"--from", "03/01/2025", "--to", "2025-01-03"}},
		{`--format "xlsx": use csv or json`, []string{"--from", "2025-01-03", "--to", "2025-01-03", "--format", "xlsx"}},
		{"--to 2025-01-02 is before --from 2025-01-03", []string{"--from", "2025-01-03", "--to", "2025-01-02"}},
		{`--timezone "Mars/Olympus" is not a time zone`, []string{"--from", "2025-01-03", "--to", "2025-01-03", "--timezone", "Mars/Olympus"}},
	} {
		code, _, stderr := run(t, append([]string{"export", "--data", data}, tt.args...)...)
		if code != 2 || !strings.HasPrefix(stderr, "lango-hub: ") || !strings.Contains(stderr, tt.msg) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("export %v: exit %d, %q; want 2 and one line containing %q", tt.args, code, stderr, tt.msg)
		}
	}
	code, out, stderr := run(t, "export", "--data", data, "--from", "2025-01-03", "--to", "2025-01-03")
	if code != 0 || !strings.HasPrefix(out, "record,day,site,terminal,shift_id,tender,currency,amount,") || strings.Count(out, "\n") != 1 {
		t.Errorf("empty CSV export: exit %d, %q (%s); want the header alone", code, out, stderr)
	}
	code, out, stderr = run(t, "export", "--data", data, "--from", "2025-01-03", "--to", "2025-01-04", "--format", "json")
	var x struct {
		From, To, TimeZone string
		Takings, Sales     []any
	}
	if err := json.Unmarshal([]byte(out), &x); code != 0 || err != nil || x.From != "2025-01-03" || x.To != "2025-01-04" || x.TimeZone != "Africa/Nairobi" || x.Takings == nil || x.Sales == nil {
		t.Errorf("empty JSON export: exit %d, %s (%v, %s); want from, to, timezone and empty lists", code, out, err, stderr)
	}
}
