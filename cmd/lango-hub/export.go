package main

import (
	"context"
	"flag"
	"time"

	"github.com/lango-pos/lango/sync/hub"
)

// exportFlags are lango-hub export's flags.
type exportFlags struct {
	from, to, format, zone string
}

func (x *exportFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&x.from, "from", "", "the first day, YYYY-MM-DD")
	fs.StringVar(&x.to, "to", "", "the last day, YYYY-MM-DD (inclusive)")
	fs.StringVar(&x.format, "format", "csv", "csv or json")
	fs.StringVar(&x.zone, "timezone", "Africa/Nairobi", "the time zone of the days")
}

// query checks the flags: a usage error for what is missing or malformed.
func (x *exportFlags) query() (hub.ExportQuery, error) {
	var q hub.ExportQuery
	if x.from == "" || x.to == "" {
		return q, usagef("export needs --from DATE and --to DATE (YYYY-MM-DD)")
	}
	if x.format != "csv" && x.format != "json" {
		return q, usagef("--format %q: use csv or json", x.format)
	}
	loc, err := time.LoadLocation(x.zone)
	if err != nil {
		return q, usagef("--timezone %q is not a time zone, e.g. Africa/Nairobi", x.zone)
	}
	q.Loc = loc
	for _, d := range []struct {
		flag, v string
		to      *time.Time
	}{{"from", x.from, &q.From}, {"to", x.to, &q.To}} {
		if *d.to, err = time.ParseInLocation(time.DateOnly, d.v, loc); err != nil {
			return q, usagef("--%s %q is not a date: YYYY-MM-DD, e.g. 2025-01-03", d.flag, d.v)
		}
	}
	if q.To.Before(q.From) {
		return q, usagef("--to %s is before --from %s", x.to, x.from)
	}
	return q, nil
}

func (m *Main) runExport(ctx context.Context, h *hub.Hub) error {
	q, err := m.export.query()
	if err != nil {
		return err
	}
	x, err := h.Export(ctx, q)
	if err != nil {
		return err
	}
	if m.export.format == "json" {
		return m.printJSON(x)
	}
	return hub.WriteExportCSV(m.Stdout, x)
}
