// Package pgtest gives tests a real PostgreSQL server: the one
// LANGO_TEST_DATABASE names (a postgres:// URL of a server where the tests
// may create databases), or else a throwaway cluster it starts itself with
// initdb and pg_ctl in a temporary folder, listening on 127.0.0.1 on a free
// port, and stops and removes after. When the tests run as root (CI does),
// the cluster runs as the unprivileged "postgres" user (or "nobody").
//
// A test package uses it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &server)) }
//
// and each test takes a fresh database with server.NewDatabase(t).
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is a PostgreSQL server tests may create databases on.
type Server struct {
	// URL is the server's maintenance database (postgres://…/postgres).
	URL string

	dir   string // the throwaway cluster's folder ("" for LANGO_TEST_DATABASE)
	bin   string
	cred  *syscall.Credential
	opts  string // the postgres options pg_ctl starts it with
	count atomic.Int64
}

// Main starts a server (see the package comment), stores it in *srv, runs
// the tests and stops the server. A missing PostgreSQL fails the tests with
// a message saying how to install it: no test is skipped for want of it.
func Main(m *testing.M, srv **Server) int {
	s, err := Start(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	*srv = s
	code := m.Run()
	if err := s.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Start returns the server LANGO_TEST_DATABASE names, or starts a
// throwaway cluster.
func Start(ctx context.Context) (*Server, error) {
	if u := os.Getenv("LANGO_TEST_DATABASE"); u != "" {
		s := &Server{URL: u}
		if err := s.ping(ctx); err != nil {
			return nil, fmt.Errorf("LANGO_TEST_DATABASE=%s: %w", u, err)
		}
		return s, nil
	}
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin}
	if s.dir, err = os.MkdirTemp("", "lango-pg-"); err != nil {
		return nil, err
	}
	if err := s.start(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// BinDir finds the folder of initdb and pg_ctl: on PATH, else the newest
// /usr/lib/postgresql/*/bin (Debian's layout).
func BinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), "pg_ctl")); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("PostgreSQL is not installed (no initdb on PATH or in /usr/lib/postgresql/*/bin): run `make deps` (it installs Debian's postgresql package), or set LANGO_TEST_DATABASE to a postgres:// URL of a server where the tests may create databases")
}

func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func (s *Server) start(ctx context.Context) error {
	if os.Geteuid() == 0 {
		// initdb and postgres refuse to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			if u, err = user.Lookup("nobody"); err != nil {
				return fmt.Errorf("running as root and there is no postgres or nobody user to run the cluster as: %w", err)
			}
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(s.dir, uid, gid); err != nil {
			return err
		}
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	data := filepath.Join(s.dir, "data")
	if err := s.run(ctx, "initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--no-locale"); err != nil {
		return err
	}
	s.opts = fmt.Sprintf("-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s -c fsync=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=64MB", port, s.dir)
	if err := s.run(ctx, "pg_ctl", "start", "-D", data, "-w", "-t", "60", "-l", filepath.Join(s.dir, "log"), "-o", s.opts); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		return fmt.Errorf("%w\n%s", err, log)
	}
	s.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	return s.ping(ctx)
}

func (s *Server) run(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, name), args...)
	cmd.Dir = s.dir
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, s.URL)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	return c.Ping(ctx)
}

// Stop stops a throwaway cluster (pg_ctl stop -m immediate) and removes its
// folder; a LANGO_TEST_DATABASE server is left as it was, but for the
// databases the tests dropped.
func (s *Server) Stop() error {
	if s.dir == "" {
		return nil
	}
	var err error
	if s.URL != "" {
		err = s.run(context.Background(), "pg_ctl", "stop", "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w")
	}
	return errors.Join(err, os.RemoveAll(s.dir))
}

// Throwaway reports whether the server is a cluster of the tests' own
// (which Crash may stop), not LANGO_TEST_DATABASE's.
func (s *Server) Throwaway() bool { return s.dir != "" }

// Crash stops the throwaway cluster at once (pg_ctl stop -m immediate: no
// checkpoint, connections cut, as a primary lost), runs down, and starts
// the cluster again on the same port, recovering from its WAL.
func (s *Server) Crash(ctx context.Context, down func()) error {
	if s.dir == "" {
		return errors.New("pgtest: Crash needs a throwaway cluster, not LANGO_TEST_DATABASE")
	}
	data := filepath.Join(s.dir, "data")
	if err := s.run(ctx, "pg_ctl", "stop", "-D", data, "-m", "immediate", "-w"); err != nil {
		return err
	}
	down()
	if err := s.run(ctx, "pg_ctl", "start", "-D", data, "-w", "-t", "60", "-l", filepath.Join(s.dir, "log"), "-o", s.opts); err != nil {
		return err
	}
	return s.ping(ctx)
}

// NewDatabase creates an empty database for t, dropped when t ends, and
// returns its URL.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("lango_test_%d_%d", os.Getpid(), s.count.Add(1))
	c, err := pgx.Connect(ctx, s.URL)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, s.URL)
		if err != nil {
			t.Errorf("pgtest: %v", err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database: %v", err)
		}
	})
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}
