package unix

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"kontor/internal/agent"
	"kontor/internal/agent/fsys"
)

// Tags of the ACL entries the tests build besides the two acl.go reads.
const (
	tagUserObj  = 0x01
	tagGroupObj = 0x04
	tagMask     = 0x10
	tagOther    = 0x20
	undefinedID = 0xffffffff
)

// encodeACL is the inverse of parseACL.
func encodeACL(es ...aclEntry) []byte {
	b := binary.LittleEndian.AppendUint32(nil, aclXattrVersion)
	for _, e := range es {
		b = binary.LittleEndian.AppendUint16(b, e.tag)
		b = binary.LittleEndian.AppendUint16(b, e.perm)
		b = binary.LittleEndian.AppendUint32(b, e.id)
	}
	return b
}

// fullACL is an ACL as the kernel accepts it (base entries, named ones in
// order, a mask) with the named entries given.
func fullACL(named ...aclEntry) []byte {
	es := []aclEntry{{tagUserObj, 7, undefinedID}}
	for _, e := range named {
		if e.tag == aclTagUser {
			es = append(es, e)
		}
	}
	es = append(es, aclEntry{tagGroupObj, 5, undefinedID})
	for _, e := range named {
		if e.tag == aclTagGroup {
			es = append(es, e)
		}
	}
	return encodeACL(append(es, aclEntry{tagMask, 7, undefinedID}, aclEntry{tagOther, 5, undefinedID})...)
}

func TestParseACL(t *testing.T) {
	want := []aclEntry{{tagUserObj, 7, undefinedID}, {aclTagGroup, 6, 33}}
	got, err := parseACL(encodeACL(want...))
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("parseACL = %v, %v", got, err)
	}
	for name, b := range map[string][]byte{
		"empty":       nil,
		"short entry": encodeACL(want...)[:10],
		"version 1":   binary.LittleEndian.AppendUint32(nil, 1),
	} {
		if _, err := parseACL(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestJudgeACL(t *testing.T) {
	web := func(perm uint16) aclEntry { return aclEntry{aclTagGroup, perm, 33} }
	owner := aclEntry{aclTagUser, 7, 10001}
	for _, c := range []struct {
		name        string
		access, def []aclEntry
		want        webACL
	}{
		{"none", nil, nil, webACL{}},
		{"granted", []aclEntry{web(7)}, []aclEntry{web(7), owner}, webACL{granted: true, web: true}},
		{"no owner default", []aclEntry{web(7)}, []aclEntry{web(7)}, webACL{web: true}},
		{"read only", []aclEntry{web(5)}, []aclEntry{web(7), owner}, webACL{web: true}},
		{"default only", nil, []aclEntry{web(7)}, webACL{web: true}},
		{"other group", []aclEntry{{aclTagGroup, 7, 34}}, []aclEntry{{aclTagGroup, 7, 34}, owner}, webACL{}},
		// A user entry with the web group's number is not the group.
		{"user 33", []aclEntry{{aclTagUser, 7, 33}}, []aclEntry{{aclTagUser, 7, 33}, owner}, webACL{}},
	} {
		if got := judgeACL(c.access, c.def, 10001, 33); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
	// An unknown web group (a dry run before it exists) matches nothing.
	if got := judgeACL([]aclEntry{{aclTagGroup, 7, undefinedID}}, nil, 10001, -1); got != (webACL{}) {
		t.Errorf("webGID -1: %+v", got)
	}
}

// readWebACL on real directories: the ACL set with setxattr is read back,
// a symlink in place of html or of the home is refused, not followed.
func TestReadWebACL(t *testing.T) {
	base := t.TempDir()
	home := filepath.Join(base, "web1")
	html := filepath.Join(home, "html")
	if err := os.MkdirAll(html, 0o755); err != nil {
		t.Fatal(err)
	}
	st, err := readWebACL(home, 10001, 33)
	if err != nil || st != (webACL{}) {
		t.Fatalf("no ACL: %+v %v", st, err)
	}
	if err := unix.Setxattr(html, xattrACLAccess, fullACL(aclEntry{aclTagGroup, 7, 33}), 0); err != nil {
		if errors.Is(err, unix.EOPNOTSUPP) {
			t.Skipf("the temp dir's filesystem has no ACLs: %v", err)
		}
		t.Fatal(err)
	}
	if st, err = readWebACL(home, 10001, 33); err != nil || st != (webACL{web: true}) {
		t.Errorf("access entry only: %+v %v", st, err)
	}
	if err := unix.Setxattr(html, xattrACLDefault, fullACL(aclEntry{aclTagUser, 7, 10001}, aclEntry{aclTagGroup, 7, 33}), 0); err != nil {
		t.Fatal(err)
	}
	if st, err = readWebACL(home, 10001, 33); err != nil || st != (webACL{web: true, granted: true}) {
		t.Errorf("granted: %+v %v", st, err)
	}

	// html replaced by a symlink to a directory that is granted.
	if err := os.Rename(html, filepath.Join(home, "real")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", html); err != nil {
		t.Fatal(err)
	}
	if _, err := readWebACL(home, 10001, 33); !errors.Is(err, errNotDir) {
		t.Errorf("html a symlink: %v", err)
	}
	// The home itself a symlink to a granted home.
	if err := os.Symlink(home, filepath.Join(base, "web2")); err != nil {
		t.Fatal(err)
	}
	if _, err := readWebACL(filepath.Join(base, "web2"), 10001, 33); !errors.Is(err, errNotDir) {
		t.Errorf("home a symlink: %v", err)
	}
	// html a file.
	if err := os.Remove(html); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(html, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readWebACL(home, 10001, 33); !errors.Is(err, errNotDir) {
		t.Errorf("html a file: %v", err)
	}
	// No home or no html yet (a dry run of a new user).
	if st, err := readWebACL(filepath.Join(base, "web3"), 10001, 33); err != nil || !st.missing {
		t.Errorf("no home: %+v %v", st, err)
	}
}

func TestClassifySetfacl(t *testing.T) {
	const html = "/home/web1/html"
	for _, c := range []struct {
		out  string
		want setfaclOutcome
	}{
		{"setfacl: /home/web1/html/byweb: Operation not permitted\n" +
			"setfacl: /home/web1/html/dav/f.html: Operation not permitted\n", setfaclTolerated},
		// html itself not the user's: nothing was granted.
		{"setfacl: /home/web1/html: Operation not permitted\n", setfaclFailed},
		{"setfacl: /home/web1/html-other/x: Operation not permitted\n", setfaclFailed},
		{"setfacl: /home/web1/html: Operation not supported\n", setfaclUnsupported},
		{"setfacl: /home/web1/html/a: Operation not permitted\n" +
			"setfacl: /home/web1/html/b: No space left on device\n", setfaclFailed},
		{"setpriv: failed to execute setfacl: No such file or directory\n", setfaclFailed},
		{"setfacl: Option -m: Invalid argument near character 3\n", setfaclFailed},
		{"", setfaclFailed},
	} {
		if got := classifySetfacl([]byte(c.out), html); got != c.want {
			t.Errorf("%q: %d, want %d", c.out, got, c.want)
		}
	}
}

// fakeACLs is the ACL state of the document roots by host home, changed
// by the setfacl commands fakeRunner sees, like the real ones would.
type fakeACLs map[string]webACL

func (f fakeACLs) read(home string, uid, webGID int) (webACL, error) {
	if st, ok := f[home]; ok {
		if st.missing && st.unsupported { // stands for "not a directory"
			return webACL{}, errNotDir
		}
		return st, nil
	}
	return webACL{}, nil
}

// fakeRunner records commands; setfacl changes fakeACLs, and fail gives
// the output and error of a failing setfacl.
type fakeRunner struct {
	acls fakeACLs
	cmds [][]string
	fail func(args []string) ([]byte, error)
}

func (r *fakeRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	r.cmds = append(r.cmds, append([]string{name}, args...))
	if r.fail != nil {
		if out, err := r.fail(args); err != nil {
			return out, err
		}
	}
	if name == "setpriv" && len(args) > 3 {
		html := args[len(args)-1]
		home := strings.TrimSuffix(html, "/html")
		switch args[len(args)-4] {
		case "-m":
			r.acls[home] = webACL{granted: true, web: true}
		case "-x":
			r.acls[home] = webACL{}
		}
	}
	return nil, nil
}

// fpSandbox is a sandbox where web1..webN exist as wanted (no shell, not
// locked), so that the accounts daemon runs nothing but the ACL commands.
func fpSandbox(t *testing.T, n int) *sandbox {
	var passwd, group, shadow, members []string
	for i := 1; i <= n; i++ {
		l, id := "web"+strconv.Itoa(i), strconv.Itoa(10000+i)
		passwd = append(passwd, l+":x:"+id+":"+id+":Kontor:/home/"+l+":/usr/sbin/nologin\n")
		group = append(group, l+":x:"+id+":\n")
		shadow = append(shadow, l+":!:19000:0:99999:7:::\n")
		members = append(members, l)
	}
	s := newSandbox(t, strings.Join(passwd, ""),
		strings.Join(group, "")+"kontor-sftp:x:998:\nkontor-nossh:x:997:"+strings.Join(members, ",")+"\n",
		strings.Join(shadow, ""), mountsPlain)
	for _, l := range members {
		for _, d := range []string{"html", "files", "log"} {
			if err := os.MkdirAll(s.host("home/"+l+"/"+d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	return s
}

func grantCmd(uid, html string) []string {
	return []string{"setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups", "--inh-caps=-all", "--no-new-privs", "--reset-env", "--",
		"setfacl", "-R", "-P", "-m", "g:www-data:rwX,d:g:www-data:rwX,d:u:" + uid + ":rwX", "--", html}
}

func revokeCmd(uid, html string) []string {
	return []string{"setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups", "--inh-caps=-all", "--no-new-privs", "--reset-env", "--",
		"setfacl", "-R", "-P", "-x", "g:www-data,d:g:www-data", "--", html}
}

func frontPage(u agent.User) agent.User {
	u.FrontPage = &agent.FrontPage{Login: u.Login + "fp", Hash: "$apr1$x$y"}
	return u
}

// The dry-run plan of one batch: FrontPage on and not yet granted → grant;
// on and granted → nothing; off with the web group's entries → revoke;
// off without → nothing; locked with FrontPage → revoke. Exactly these
// argument lists, each as the user, on the document root.
func TestPlanWebDAV(t *testing.T) {
	s := fpSandbox(t, 5)
	acls := fakeACLs{
		"/home/web2": {granted: true, web: true},
		"/home/web3": {web: true},
		"/home/web5": {granted: true, web: true},
	}
	on, granted, off, never, locked := frontPage(user(1, "web1")), frontPage(user(2, "web2")), user(3, "web3"), user(4, "web4"), frontPage(user(5, "web5"))
	locked.Locked = true
	// A journal batch: what changed is FrontPage (and the lock).
	b := batch(on, granted, off, never, locked)
	b.What = map[int64][]string{1: {"frontpage"}, 2: {"frontpage"}, 3: {"frontpage"}, 4: {"frontpage"}, 5: {"status"}}
	out, res := dryRun(t, s, Accounts{Opt: testOptions(), readACL: acls.read}, b)
	if len(res.Failed) > 0 || res.Err != nil {
		t.Fatalf("failed: %s %v", failures(res), res.Err)
	}
	cmds := out[strings.Index(out, "# commands\n")+len("# commands\n") : strings.Index(out, "# files")]
	want := fsys.CommandLine(grantCmd("10001", "/home/web1/html")[0], grantCmd("10001", "/home/web1/html")[1:]...) + "\n" +
		fsys.CommandLine(revokeCmd("10003", "/home/web3/html")[0], revokeCmd("10003", "/home/web3/html")[1:]...) + "\n" +
		fsys.CommandLine(revokeCmd("10005", "/home/web5/html")[0], revokeCmd("10005", "/home/web5/html")[1:]...) + "\n"
	if cmds != want {
		t.Errorf("planned:\n%s\nwant:\n%s", cmds, want)
	}
}

// Over several runs on a real FS (the sandbox): on → one grant, the same
// again → nothing, off → one revoke, off again → nothing, on and then
// locked → revoke, unlocked → grant.
func TestWebDAVTransitions(t *testing.T) {
	s := fpSandbox(t, 1)
	acls := fakeACLs{}
	run := &fakeRunner{acls: acls}
	a := Accounts{Opt: testOptions(), readACL: acls.read}
	html := s.host("home/web1/html")
	apply := func(u agent.User) agent.Result {
		t.Helper()
		run.cmds = nil
		b := batch(u)
		b.Full = true
		res := a.Apply(context.Background(), s.env(s.root, run), b)
		if len(res.Failed) > 0 || res.Err != nil {
			t.Fatalf("failed: %s %v", failures(res), res.Err)
		}
		return res
	}
	u := frontPage(user(1, "web1"))
	steps := []struct {
		name string
		u    agent.User
		want [][]string
	}{
		{"on", u, [][]string{grantCmd("10001", html)}},
		{"on again", u, nil},
		{"off", user(1, "web1"), [][]string{revokeCmd("10001", html)}},
		{"off again", user(1, "web1"), nil},
		{"on", u, [][]string{grantCmd("10001", html)}},
	}
	lockedU := u
	lockedU.Locked = true
	steps = append(steps,
		struct {
			name string
			u    agent.User
			want [][]string
		}{"locked", lockedU, [][]string{revokeCmd("10001", html)}},
		struct {
			name string
			u    agent.User
			want [][]string
		}{"unlocked", u, [][]string{grantCmd("10001", html)}})
	for _, st := range steps {
		res := apply(st.u)
		if !reflect.DeepEqual(run.cmds, st.want) {
			t.Errorf("%s: ran %q, want %q", st.name, run.cmds, st.want)
		}
		if res.Changed != (st.want != nil) {
			t.Errorf("%s: changed=%v", st.name, res.Changed)
		}
	}
}

// setfacl's complaints: files of the web server are tolerated; a
// filesystem without ACLs fails the user and notifies the admin once; any
// other complaint fails the user with setfacl's words and takes the mark
// off html so that the next run tries again.
func TestWebDAVSetfaclErrors(t *testing.T) {
	exitErr := errors.New("exit status 1")
	for _, c := range []struct {
		name, out  string
		wantFail   string
		wantNotice bool
		wantUnmark bool
	}{
		{name: "www-data's files", out: "setfacl: HTML/byweb: Operation not permitted\nsetfacl: HTML/dav: Operation not permitted\n"},
		{name: "no ACLs", out: "setfacl: HTML: Operation not supported\n", wantFail: "has no POSIX ACLs", wantNotice: true},
		{name: "disk full", out: "setfacl: HTML/big: No space left on device\n", wantFail: "No space left on device", wantUnmark: true},
		{name: "html not the user's", out: "setfacl: HTML: Operation not permitted\n", wantFail: "FrontPage cannot publish", wantUnmark: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := fpSandbox(t, 2)
			html := s.host("home/web1/html")
			out := strings.ReplaceAll(c.out, "HTML", html)
			run := &fakeRunner{acls: fakeACLs{}, fail: func(args []string) ([]byte, error) {
				if args[len(args)-1] == html && args[len(args)-4] == "-m" {
					return []byte(out), &fsys.CmdError{Argv: append([]string{"setpriv"}, args...), Output: out, Err: exitErr}
				}
				return nil, nil
			}}
			// web2 has FrontPage too and is granted fine: one user's
			// trouble is not another's.
			res := Accounts{Opt: testOptions(), readACL: run.acls.read}.Apply(context.Background(), s.env(s.root, run),
				batch(frontPage(user(1, "web1")), frontPage(user(2, "web2"))))
			if res.Err != nil || res.Failed[2] != nil {
				t.Fatalf("failed: %s %v", failures(res), res.Err)
			}
			if c.wantFail == "" {
				if res.Failed[1] != nil {
					t.Errorf("failed: %v", res.Failed[1])
				}
			} else if res.Failed[1] == nil || !strings.Contains(res.Failed[1].Error(), c.wantFail) {
				t.Errorf("failure %v, want %q", res.Failed[1], c.wantFail)
			}
			if got := len(aclNotices(res)) == 1; got != c.wantNotice {
				t.Errorf("notices %v", res.Notices)
			}
			unmark := []string{"setpriv", "--reuid=10001", "--regid=10001", "--clear-groups", "--inh-caps=-all", "--no-new-privs", "--reset-env", "--",
				"setfacl", "-P", "-x", "g:www-data", "--", html}
			ran := false
			for _, cmd := range run.cmds {
				ran = ran || reflect.DeepEqual(cmd, unmark)
			}
			if ran != c.wantUnmark {
				t.Errorf("unmark ran=%v: %q", ran, run.cmds)
			}
		})
	}
}

// The filesystem has no ACLs (seen when reading them): no setfacl runs,
// the user fails with a message that says FrontPage cannot publish, and
// the admin gets one notice for all such users; a user without FrontPage
// is not affected. html replaced by a symlink fails the user the same way
// and nothing runs on it.
func TestWebDAVUnreadable(t *testing.T) {
	s := fpSandbox(t, 4)
	acls := fakeACLs{
		s.host("home/web1"): {unsupported: true},
		s.host("home/web2"): {unsupported: true},
		s.host("home/web3"): {unsupported: true},
		s.host("home/web4"): {missing: true, unsupported: true}, // not a directory
	}
	run := &fakeRunner{acls: acls}
	res := Accounts{Opt: testOptions(), readACL: acls.read}.Apply(context.Background(), s.env(s.root, run),
		batch(frontPage(user(1, "web1")), frontPage(user(2, "web2")), user(3, "web3"), frontPage(user(4, "web4"))))
	if len(run.cmds) != 0 {
		t.Errorf("ran %q", run.cmds)
	}
	for _, id := range []int64{1, 2} {
		if res.Failed[id] == nil || !strings.Contains(res.Failed[id].Error(), "FrontPage cannot publish: the filesystem of /home/web") {
			t.Errorf("user %d: %v", id, res.Failed[id])
		}
	}
	if res.Failed[3] != nil {
		t.Errorf("user without FrontPage failed: %v", res.Failed[3])
	}
	if res.Failed[4] == nil || !strings.Contains(res.Failed[4].Error(), "html is not a directory") {
		t.Errorf("symlinked html: %v", res.Failed[4])
	}
	if n := aclNotices(res); len(n) != 1 || n[0].Args[0] != "/home" {
		t.Errorf("notices %v", res.Notices)
	}
}

// aclNotices are the notices of a filesystem without ACLs (the sandbox
// has no quotas either, which gives a notice of its own).
func aclNotices(res agent.Result) []agent.Notice {
	var out []agent.Notice
	for _, n := range res.Notices {
		if n.Key == NoticeACLUnsupported {
			out = append(out, n)
		}
	}
	return out
}

// In sandbox mode (the demo) the ACL commands are only planned, with the
// target path, when the batch may have changed FrontPage or the lock.
func TestWebDAVSandbox(t *testing.T) {
	s := fpSandbox(t, 2)
	o := testOptions()
	o.Sandbox = true
	run := &fakeRunner{acls: fakeACLs{}}
	b := batch(frontPage(user(1, "web1")), user(2, "web2"))
	b.What = map[int64][]string{1: {"frontpage"}, 2: {"frontpage"}}
	res := Accounts{Opt: o}.Apply(context.Background(), s.env(s.root, run), b)
	if len(res.Failed) > 0 || res.Err != nil {
		t.Fatalf("failed: %s %v", failures(res), res.Err)
	}
	if len(run.cmds) != 0 {
		t.Errorf("sandbox ran %q", run.cmds)
	}
	want := []string{
		"sandbox: " + fsys.CommandLine("setpriv", grantCmd("10001", "/home/web1/html")[1:]...),
		"sandbox: " + fsys.CommandLine("setpriv", revokeCmd("10002", "/home/web2/html")[1:]...),
	}
	if !reflect.DeepEqual(s.plan, want) {
		t.Errorf("plan %q, want %q", s.plan, want)
	}
	// A password change plans nothing.
	s.plan = nil
	b.What = map[int64][]string{1: {"password"}, 2: {"password"}}
	Accounts{Opt: o}.Apply(context.Background(), s.env(s.root, run), b)
	if len(s.plan) != 0 {
		t.Errorf("plan %q", s.plan)
	}
}
