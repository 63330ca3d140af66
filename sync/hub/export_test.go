package hub

// RuleOf says what the authorization table holds for event type t: whether
// it has a row, the payload paths it creates and names, and for each named
// path whether the owner is the terminal itself and an unknown id passes.
func RuleOf(t string) (ok bool, creates []string, names [][]string, ownTerminal, unknown, optional []bool) {
	r, ok := eventRules[t]
	if r.creates != nil {
		creates = r.creates.path
	}
	for _, n := range r.names {
		names = append(names, n.path)
		ownTerminal = append(ownTerminal, n.owner == ownerTerminal)
		unknown = append(unknown, n.unknown)
		optional = append(optional, n.optional)
	}
	return ok, creates, names, ownTerminal, unknown, optional
}

// QuickSale is quickSale, for the tests of package hub_test.
var QuickSale = quickSale
