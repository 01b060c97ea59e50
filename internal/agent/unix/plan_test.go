package unix

import (
	"context"
	"os"
	"strings"
	"testing"

	"kontor/internal/agent"
	"kontor/internal/agent/fsys"
	"kontor/internal/panel"
	"kontor/internal/testenv"
)

func TestRenderSSHDGolden(t *testing.T) {
	b, err := RenderSSHD(DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, "sshd", b)
}

// The users of the create plan: one per shell level, a locked one, and
// every directory switch.
func createUsers() []agent.User {
	full := user(1, "web1")
	full.Services = svc(panel.SvcCGI, panel.SvcStdCGI, panel.SvcPHP, panel.SvcPHPUpload)
	full.Services[panel.SvcShell] = panel.ShellFull
	full.Limits = panel.Limits{panel.ResStorage: 100}
	full.IndexName = "index.html"
	full.IndexHTML = "<h1>Welcome, web1</h1>\n"

	sftp := user(2, "web2")
	sftp.Services = svc(panel.SvcPHP)
	sftp.Services[panel.SvcShell] = panel.ShellSFTP
	sftp.Limits = panel.Limits{panel.ResStorage: -1}

	none := user(3, "web3")

	locked := user(4, "res1web0")
	locked.Locked = true
	locked.Services[panel.SvcShell] = panel.ShellFull
	locked.Limits = panel.Limits{panel.ResStorage: 2048}
	return []agent.User{full, sftp, none, locked}
}

func TestPlanCreate(t *testing.T) {
	s := newSandbox(t, "", "", "", mountsQuota)
	out, res := dryRun(t, s, Accounts{Opt: testOptions()}, batch(createUsers()...))
	if len(res.Failed) > 0 || res.Err != nil {
		t.Fatalf("failed: %s %v", failures(res), res.Err)
	}
	testenv.Golden(t, "plan_create", []byte(out))
	// A dry run changes nothing on disk.
	if _, err := os.Stat(s.host("home/web1")); !os.IsNotExist(err) {
		t.Errorf("dry run created the home: %v", err)
	}
}

// existing is a sandbox where the users of createUsers exist, each in a
// state that differs from the desired one in one way.
func existing(t *testing.T, mounts string) *sandbox {
	return newSandbox(t,
		"web1:x:10001:10001:Kontor:/home/web1:/usr/sbin/nologin\n"+ // full shell wanted
			"web2:x:10002:10002:Kontor:/home/web2:/bin/bash\n"+ // SFTP wanted
			"web3:x:10003:10003:Kontor:/home/web3:/usr/sbin/nologin\n"+ // as wanted
			"res1web0:x:10004:10004:Kontor:/srv/elsewhere:/bin/bash\n", // locked, wrong home
		"web1:x:10001:\nweb2:x:10002:\nweb3:x:10003:\nres1web0:x:10004:\n"+
			"kontor-sftp:x:998:\nkontor-nossh:x:997:web1,web3\nadm:x:4:web2\n",
		"web1:!:19000:0:99999:7:::\nweb2:$y$j9T$abc$def:19000:0:99999:7:::\n"+
			"web3:!:19000:0:99999:7:::\nres1web0:$y$j9T$abc$def:19000:0:99999:7:::\n",
		mounts)
}

func TestPlanModify(t *testing.T) {
	s := existing(t, mountsQuota)
	for _, d := range []string{"web1", "web2", "web3", "res1web0"} {
		if err := os.MkdirAll(s.host("home/"+d+"/html"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b := batch(createUsers()...)
	// A journal batch: only web1's services changed; web3 got a new
	// password, which needs no quota run.
	b.What = map[int64][]string{1: {"services"}, 2: {"status"}, 3: {"password"}, 4: {"status"}}
	out, res := dryRun(t, s, Accounts{Opt: testOptions()}, b)
	if len(res.Failed) > 0 || res.Err != nil {
		t.Fatalf("failed: %s %v", failures(res), res.Err)
	}
	testenv.Golden(t, "plan_modify", []byte(out))
	if len(b.Created) != 0 {
		t.Errorf("existing users reported as created: %v", b.Created)
	}
}

func TestPlanLockUnlock(t *testing.T) {
	s := newSandbox(t,
		"web1:x:10001:10001:Kontor:/home/web1:/bin/bash\nweb2:x:10002:10002:Kontor:/home/web2:/usr/sbin/nologin\n",
		"web1:x:10001:\nweb2:x:10002:\nkontor-sftp:x:998:\nkontor-nossh:x:997:web2\n",
		"web1:$y$j9T$abc$def:1:0:99999:7:::\nweb2:!$y$j9T$abc$def:1:0:99999:7:::\n",
		mountsPlain)
	for _, d := range []string{"web1", "web2"} {
		if err := os.MkdirAll(s.host("home/"+d+"/html"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	lock := user(1, "web1")
	lock.Locked = true
	lock.Services[panel.SvcShell] = panel.ShellFull
	unlock := user(2, "web2")
	unlock.Services[panel.SvcShell] = panel.ShellSFTP
	b := batch(lock, unlock)
	b.What = map[int64][]string{1: {"status"}, 2: {"status"}}
	out, res := dryRun(t, s, Accounts{Opt: testOptions()}, b)
	if len(res.Failed) > 0 || res.Err != nil {
		t.Fatalf("failed: %s %v", failures(res), res.Err)
	}
	testenv.Golden(t, "plan_lock", []byte(out))
}

func TestPlanDelete(t *testing.T) {
	s := newSandbox(t,
		"web1:x:10001:10001:Kontor:/home/web1:/bin/bash\n"+
			"web2:x:10002:10002:Kontor:/home/web2:/bin/bash\n"+ // kept: in the batch
			"web9:x:10009:10009:Kontor:/home/web9:/usr/sbin/nologin\n"+ // swept
			"alice:x:10500:10500:Alice:/home/alice:/bin/bash\n"+ // hand-made: kept
			"web7:x:5007:5007:Kontor:/home/web7:/bin/bash\n"+ // outside the range: kept
			"web8:x:10008:10008:Kontor:/srv/web8:/bin/bash\n", // home elsewhere: kept
		"web1:x:10001:\nweb2:x:10002:\nweb9:x:10009:\nalice:x:10500:\nweb7:x:5007:\nweb8:x:10008:\n",
		"", mountsQuota)
	for _, d := range []string{"web1/html", "web2/html", "web9/html", "alice", "web7", "orphan"} {
		if err := os.MkdirAll(s.host("home/"+d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b := batch(user(2, "web2"))
	b.Gone = []agent.Gone{{ID: 1, Login: "web1"}, {ID: 7, Login: "web7"}, {ID: 5, Login: "web5"}}
	b.Full = true
	out, res := dryRun(t, s, Removal{Opt: testOptions()}, b)
	testenv.Golden(t, "plan_delete", []byte(out))
	if res.Failed[7] == nil || !strings.Contains(res.Failed[7].Error(), "outside the agent's range") {
		t.Errorf("web7 outside the range: got %v", res.Failed[7])
	}
	if res.Failed[1] != nil || res.Failed[5] != nil {
		t.Errorf("unexpected failures: %s", failures(res))
	}
}

// The golden plans name exactly the commands; this checks what a user
// of the sandbox would see afterwards, with the sandbox runner applying
// them to the fake /etc.
func TestSandboxRoundTrip(t *testing.T) {
	s := newSandbox(t, "", "", "", mountsPlain)
	o := testOptions()
	o.Sandbox = true
	env := s.env(s.root, nil) // Run must not be used in a sandbox
	users := createUsers()
	res := Accounts{Opt: o}.Apply(context.Background(), env, batch(users...))
	if len(res.Failed) > 0 || res.Err != nil {
		t.Fatalf("failed: %s %v", failures(res), res.Err)
	}
	passwd, _ := os.ReadFile(s.host("etc/passwd"))
	group, _ := os.ReadFile(s.host("etc/group"))
	for _, want := range []string{
		"web1:x:10001:10001:Kontor:/home/web1:/bin/bash\n",
		"web2:x:10002:10002:Kontor:/home/web2:/usr/sbin/nologin\n",
		"res1web0:x:10004:10004:Kontor:/home/res1web0:/usr/sbin/nologin\n",
	} {
		if !strings.Contains(string(passwd), want) {
			t.Errorf("passwd lacks %q:\n%s", want, passwd)
		}
	}
	for _, want := range []string{"kontor-sftp:x:999:web2\n", "kontor-nossh:x:998:web3,res1web0\n", "web1:x:10001:\n"} {
		if !strings.Contains(string(group), want) {
			t.Errorf("group lacks %q:\n%s", want, group)
		}
	}
	if len(s.plan) == 0 || !strings.HasPrefix(s.plan[0], `sandbox: "groupadd"`) {
		t.Errorf("plan: %q", s.plan)
	}
	if res.Notices[0].Key != NoticeQuotaUnsupported {
		t.Errorf("notices: %v", res.Notices)
	}

	// The second run observes the accounts and has nothing to do.
	s.plan = nil
	b := batch(users...)
	res = Accounts{Opt: o}.Apply(context.Background(), env, b)
	if len(res.Failed) > 0 || res.Err != nil {
		t.Fatalf("second run failed: %s %v", failures(res), res.Err)
	}
	if len(s.plan) != 0 || len(b.Created) != 0 {
		t.Errorf("second run planned %q, created %v", s.plan, b.Created)
	}

	// Locking web1, then deleting it.
	users[0].Locked = true
	res = Accounts{Opt: o}.Apply(context.Background(), env, batch(users...))
	if len(res.Failed) > 0 {
		t.Fatal(failures(res))
	}
	passwd, _ = os.ReadFile(s.host("etc/passwd"))
	if !strings.Contains(string(passwd), "web1:x:10001:10001:Kontor:/home/web1:/usr/sbin/nologin\n") {
		t.Errorf("locked web1 keeps its shell:\n%s", passwd)
	}
	b = batch(users[1:]...)
	b.Gone = []agent.Gone{{ID: 1, Login: "web1"}}
	res = Removal{Opt: o}.Apply(context.Background(), env, b)
	if len(res.Failed) > 0 || res.Err != nil {
		t.Fatalf("removal failed: %s %v", failures(res), res.Err)
	}
	passwd, _ = os.ReadFile(s.host("etc/passwd"))
	group, _ = os.ReadFile(s.host("etc/group"))
	if strings.Contains(string(passwd), "web1:") || strings.Contains(string(group), "web1") {
		t.Errorf("web1 still there:\n%s\n%s", passwd, group)
	}
	if _, err := os.Stat(s.host("home/web1")); !os.IsNotExist(err) {
		t.Errorf("home of web1 still there: %v", err)
	}
	if _, err := os.Stat(s.host("home/web2/html")); err != nil {
		t.Errorf("home of web2 gone: %v", err)
	}
}

var _ = fsys.CommandLine
