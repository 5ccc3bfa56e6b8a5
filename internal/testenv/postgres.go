package testenv

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// PostgresVersion is the major version of Debian's postgresql package the harness runs.
const PostgresVersion = "15"

// Postgres is the test binary's PostgreSQL server (Debian's postgresql 15): a cluster made
// by initdb in a temporary directory, listening on 127.0.0.1 on a free port and on a unix
// socket in its directory, with trust authentication for the superuser "postgres". As
// root, initdb and the server run as the system user postgres (PostgreSQL refuses to run
// as root) in a directory it owns; as another user, they run as that user. The server dies
// with the test binary (it gets SIGINT: a fast shutdown).
//
// One server serves every test of a test binary when TestMain hands over to PostgresMain;
// tests share it, so each takes its own database (Database).
type Postgres struct {
	Host string // 127.0.0.1
	Port int
	User string // the superuser: postgres

	bin    string // the directory of initdb, postgres, psql, pg_dump
	dir    string
	cmd    *exec.Cmd
	exited chan error
	log    *syncBuffer
	cred   *syscall.Credential
}

var postgresShared = &shared[*Postgres]{name: "postgres", stop: (*Postgres).stop}

// PostgresMain runs the tests of a package that uses StartPostgres and then stops the
// shared server. Call it from TestMain:
//
//	func TestMain(m *testing.M) { testenv.PostgresMain(m) }
func PostgresMain(m *testing.M) { postgresShared.main(m) }

// PostgresBin is the directory of Debian's PostgreSQL binaries, or "" when it is not
// installed.
func PostgresBin() string {
	dir := "/usr/lib/postgresql/" + PostgresVersion + "/bin"
	if isExecutable(filepath.Join(dir, "postgres")) && isExecutable(filepath.Join(dir, "initdb")) {
		return dir
	}
	return ""
}

// StartPostgres returns the test binary's PostgreSQL server, starting it on first use
// (under PostgresMain; else a server per test, stopped when the test ends). A missing
// installation is Unavailable.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	bin := PostgresBin()
	if bin == "" {
		Unavailable(t, "PostgreSQL "+PostgresVersion, "apt-get install postgresql")
	}
	return postgresShared.get(t, func() (*Postgres, error) { return startPostgres(bin) })
}

func startPostgres(bin string) (_ *Postgres, err error) {
	dir, err := os.MkdirTemp("", "regcred-pg-") // short: the socket path is limited to 108 bytes
	if err != nil {
		return nil, err
	}
	p := &Postgres{Host: "127.0.0.1", User: "postgres", bin: bin, dir: dir, exited: make(chan error, 1), log: &syncBuffer{}}
	defer func() {
		if err != nil {
			p.stop()
		}
	}()
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root, PostgreSQL needs the system user postgres (apt-get install postgresql creates it): %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
	}
	if p.Port, err = freePort(); err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	initdb := p.command("initdb", "-D", data, "-A", "trust", "-U", p.User, "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	p.cmd = p.command("postgres", "-D", data, "-p", strconv.Itoa(p.Port), "-k", dir,
		"-c", "listen_addresses="+p.Host, "-c", "fsync=off", "-c", "max_connections=200",
		"-c", "log_min_messages=warning")
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	p.cmd.SysProcAttr.Pdeathsig = syscall.SIGINT
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	if err := p.waitReady(60 * time.Second); err != nil {
		return nil, fmt.Errorf("postgres did not become ready: %v\nlog:\n%s", err, tail(p.log.String(), 4000))
	}
	return p, nil
}

// command runs a PostgreSQL binary as the server's user.
func (p *Postgres) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(p.bin, name), args...)
	cmd.Dir = p.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred, Setpgid: true}
	cmd.Env = append(os.Environ(), "PGHOST="+p.Host, "PGPORT="+strconv.Itoa(p.Port), "PGUSER="+p.User, "LC_ALL=C.UTF-8")
	return cmd
}

func (p *Postgres) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var out []byte
	for delay := 20 * time.Millisecond; time.Now().Before(deadline); delay = min(delay*2, 250*time.Millisecond) {
		select {
		case err := <-p.exited:
			p.exited <- err
			return fmt.Errorf("postgres exited: %v", err)
		default:
		}
		var err error
		out, err = p.command("pg_isready", "-h", p.Host, "-p", strconv.Itoa(p.Port), "-d", "postgres").CombinedOutput()
		if err == nil {
			return nil
		}
		time.Sleep(delay)
	}
	return fmt.Errorf("pg_isready: %s", bytes.TrimSpace(out))
}

// DSN is the URL of database db on the server, for pgx or store.Open.
func (p *Postgres) DSN(db string) string {
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", p.User, p.Host, p.Port, db)
}

// Database creates a fresh database for t, named after prefix, and drops it (closing what
// still uses it) when t ends. It returns the database's name.
func (p *Postgres) Database(t testing.TB, prefix string) string {
	t.Helper()
	var b [4]byte
	rand.Read(b[:])
	name := fmt.Sprintf("%s_%s", prefix, hex.EncodeToString(b[:]))
	if _, err := p.SQL("postgres", "CREATE DATABASE "+name); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		if _, err := p.SQL("postgres", "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("testenv: %v", err)
		}
	})
	return name
}

// SQL runs statements with psql in database db and returns what it printed (unaligned,
// tuples only).
func (p *Postgres) SQL(db, statements string) (string, error) {
	cmd := p.command("psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", statements)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("psql: %v: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	return stdout.String(), nil
}

// Dump returns pg_dump's plain-SQL dump of database db: schema and every row.
func (p *Postgres) Dump(db string) ([]byte, error) {
	cmd := p.command("pg_dump", "--no-owner", "-d", db)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("pg_dump: %v: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	return stdout.Bytes(), nil
}

// Logs is the server's log so far.
func (p *Postgres) Logs() string { return p.log.String() }

func (p *Postgres) stop() error {
	if p.cmd != nil && p.cmd.Process != nil {
		stopProcess(p.cmd.Process, p.exited, syscall.SIGINT, 20*time.Second) // fast shutdown: sessions end, the lock file goes
	}
	return os.RemoveAll(p.dir)
}
