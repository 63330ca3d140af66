package hub

import (
	"context"
	"encoding/json"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// reportCollector serves the report's state kept at ingest on /metrics:
// the same figures as the report, at the same flat cost, and the same
// from every hub process on one database.
type reportCollector struct {
	store                        Store
	takings, unsettled, refusals *prometheus.Desc
}

func newReportCollector(s Store) *reportCollector {
	return &reportCollector{store: s,
		takings: prometheus.NewDesc("lango_hub_takings_minor_units",
			"Money taken, net of change, in minor units: sales not voided, settlements, less refunds (the report's takings).", []string{"site", "tender", "currency"}, nil),
		unsettled: prometheus.NewDesc("lango_hub_unsettled_passes",
			"Deferred passes no terminal has reported settled (the report's unsettled).", []string{"site"}, nil),
		refusals: prometheus.NewDesc("lango_hub_catalogue_refusals",
			"Terminals whose last catalogue from the hub was refused (the report's catalogue_refused).", nil, nil),
	}
}

func (c *reportCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.takings
	ch <- c.unsettled
	ch <- c.refusals
}

func (c *reportCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.store.ReportState(ctx, false)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.takings, err)
		return
	}
	for _, t := range st.Takings {
		ch <- prometheus.MustNewConstMetric(c.takings, prometheus.GaugeValue, float64(t.Amount), t.Site, t.Tender, t.Currency)
	}
	bySite := map[string]int{}
	for _, b := range st.Unsettled {
		var u struct {
			Site string `json:"site"`
		}
		if json.Unmarshal(b, &u) == nil {
			bySite[u.Site]++
		}
	}
	for site, n := range bySite {
		ch <- prometheus.MustNewConstMetric(c.unsettled, prometheus.GaugeValue, float64(n), site)
	}
	ch <- prometheus.MustNewConstMetric(c.refusals, prometheus.GaugeValue, float64(len(st.Refused)))
}
