package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/term"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite"
)

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

func readSecret(r io.Reader) (string, error) {
	if f, ok := r.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		return strings.TrimSpace(string(b)), err
	}
	var s string
	_, err := fmt.Fscanln(r, &s)
	return strings.TrimSpace(s), err
}

func (m *Main) printJSON(v any) error {
	enc := json.NewEncoder(m.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// jsonList writes a listing as it is read, in memory that does not grow
// with it: the JSON array printJSON would print of the whole list, byte
// for byte, or (nd) one compact document a line.
type jsonList struct {
	w     *bufio.Writer
	nd    bool
	items int
}

func newJSONList(w io.Writer, nd bool) *jsonList {
	return &jsonList{w: bufio.NewWriterSize(w, 64<<10), nd: nd}
}

func (l *jsonList) add(v any) error {
	var b []byte
	var err error
	if l.nd {
		b, err = json.Marshal(v)
	} else {
		b, err = json.MarshalIndent(v, "  ", "  ")
	}
	if err != nil {
		return err
	}
	switch {
	case l.nd:
	case l.items == 0:
		l.w.WriteString("[\n  ")
	default:
		l.w.WriteString(",\n  ")
	}
	l.items++
	l.w.Write(b)
	if l.nd {
		l.w.WriteByte('\n')
	}
	return nil
}

func (l *jsonList) close() error {
	switch {
	case l.nd:
	case l.items == 0:
		l.w.WriteString("[]\n")
	default:
		l.w.WriteString("\n]\n")
	}
	return l.w.Flush()
}

func (m *Main) cmdInit(ctx context.Context, args []string) error {
	fs := m.newFlags("init")
	site := fs.String("site", "", "site code from the catalogue")
	name := fs.String("terminal", "", "this terminal's name, e.g. gate-1")
	catFile := fs.String("catalogue", "", "catalogue file")
	printerSpec := fs.String("printer", "", "printer SPEC: emulator:DIR, serial:PATH[?baud=N&profile=NAME] or none")
	if pos, err := fs.parse(args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("init takes no arguments, got %q", pos[0])
	}
	if *site == "" || *name == "" || *catFile == "" {
		return usagef("init needs --site, --terminal and --catalogue")
	}
	body, err := os.ReadFile(*catFile)
	if err != nil {
		return terminal.Errorf(terminal.EINVALID, "cannot read catalogue %s: %v", *catFile, err)
	}
	pin, err := m.pin("LANGO_PIN", "admin")
	if err != nil {
		return err
	}
	settings := map[string]string{}
	if *printerSpec != "" {
		if err := checkDevice("printer", *printerSpec); err != nil {
			return err
		}
		settings["printer"] = *printerSpec
	}
	dir, err := m.dataFolder()
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "lango.db")
	if _, err := os.Stat(path); err == nil {
		return terminal.Errorf(terminal.ECONFLICT, "%s already holds a terminal; use another --data folder", dir)
	}
	// Check everything before creating anything on disk.
	if _, err := terminal.ParseCatalogue(body); err != nil {
		return err
	}
	if err := terminal.ValidatePIN(pin); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return terminal.Errorf(terminal.EINVALID, "cannot create %s: %v", dir, err)
	}
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	db.CheckDevice = checkDevice
	m.db = db
	id, err := db.Init(ctx, terminal.InitRequest{Site: *site, Name: *name, Catalogue: body, AdminPIN: pin, Settings: settings})
	if err != nil {
		db.Close()
		m.db = nil
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(path + suffix)
		}
		return err
	}
	fmt.Fprintf(m.Stdout, "terminal %s of site %s created in %s; supervisor: admin\n", id.Name, id.Site, dir)
	return nil
}

func (m *Main) cmdConfig(ctx context.Context, args []string) error {
	fs := m.newFlags("config").withJSON().withAs()
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("config set KEY VALUE | config set --as SUPERVISOR mpesa_paybill_use main|spare | config show --json")
	}
	db, err := m.open(ctx)
	if err != nil {
		return err
	}
	switch pos[0] {
	case "set":
		if len(pos) != 3 {
			return usagef("config set KEY VALUE")
		}
		if pos[1] == "mpesa_paybill_use" {
			return m.switchPaybill(ctx, db, fs.as, pos[2])
		}
		v, err := db.SetSetting(ctx, "", pos[1], pos[2])
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "%s = %s\n", pos[1], v)
		return nil
	case "show":
		s, err := db.Settings(ctx)
		if err != nil {
			return err
		}
		if fs.json {
			return m.printJSON(s)
		}
		keys := make([]string, 0, len(s))
		for k := range s {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(m.Stdout, "%s = %s\n", k, s[k])
		}
		return nil
	}
	return usagef("config %s: use set or show", pos[0])
}

func (m *Main) cmdOperator(ctx context.Context, args []string) error {
	fs := m.newFlags("operator").withAs().withJSON()
	name := fs.String("name", "", "the operator's name")
	role := fs.String("role", "attendant", "add: attendant or supervisor")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || (pos[0] != "add" && pos[0] != "pin" && pos[0] != "disable" && pos[0] != "unlock") {
		return usagef("operator add --as SUPERVISOR --name NAME --role attendant|supervisor | operator pin|disable|unlock --as SUPERVISOR --name NAME")
	}
	db, sup, err := m.openAs(ctx, fs.as)
	if err != nil {
		return err
	}
	if pos[0] == "disable" || pos[0] == "unlock" {
		change, said := db.DisableOperator, "disabled"
		if pos[0] == "unlock" {
			change, said = db.Unlock, "unlocked: the PIN signs in again"
		}
		op, err := change(ctx, sup, *name)
		if err != nil {
			return err
		}
		if fs.json {
			return m.printJSON(op)
		}
		fmt.Fprintf(m.Stdout, "operator %s %s\n", op.Name, said)
		return nil
	}
	whose := "the new operator"
	if pos[0] == "pin" {
		whose = *name + " (new)"
	}
	newPIN, err := m.pin("LANGO_NEW_PIN", whose)
	if err != nil {
		return err
	}
	var op *terminal.Operator
	if pos[0] == "pin" {
		op, err = db.SetOperatorPIN(ctx, sup, *name, newPIN)
	} else {
		op, err = db.AddOperator(ctx, sup, *name, *role, newPIN)
	}
	if err != nil {
		return err
	}
	if fs.json {
		return m.printJSON(op)
	}
	if pos[0] == "pin" {
		fmt.Fprintf(m.Stdout, "operator %s has a new PIN\n", op.Name)
	} else {
		fmt.Fprintf(m.Stdout, "operator %s added as %s\n", op.Name, op.Role)
	}
	return nil
}

func (m *Main) cmdCatalogue(ctx context.Context, args []string) error {
	fs := m.newFlags("catalogue").withJSON()
	file := fs.String("file", "", "show a catalogue file instead of the terminal's")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "show" {
		return usagef("catalogue show [--file FILE] --json")
	}
	var cat *terminal.Catalogue
	if *file != "" {
		b, err := os.ReadFile(*file)
		if err != nil {
			return terminal.Errorf(terminal.EINVALID, "cannot read catalogue %s: %v", *file, err)
		}
		if cat, err = terminal.ParseCatalogue(b); err != nil {
			return err
		}
	} else {
		db, err := m.open(ctx)
		if err != nil {
			return err
		}
		if cat, err = db.Catalogue(ctx); err != nil {
			return err
		}
	}
	type site struct {
		Code string `json:"code"`
		Name string `json:"name"`
		Kind string `json:"kind"`
	}
	out := struct {
		Version string          `json:"version"`
		Name    string          `json:"name"`
		Sites   []site          `json:"sites"`
		Items   []terminal.Item `json:"items"`
	}{Version: cat.Version, Name: cat.Name, Items: cat.Items()}
	for _, s := range cat.Sites {
		out.Sites = append(out.Sites, site{s.Code, s.Name, s.Kind})
	}
	if fs.json {
		return m.printJSON(out)
	}
	fmt.Fprintf(m.Stdout, "%s (%s)\n", cat.Name, cat.Version)
	for _, it := range out.Items {
		fmt.Fprintf(m.Stdout, "  %-14s %s\n", it.Code, it.Name)
	}
	return nil
}
