package panel

import (
	"errors"
	"strings"
	"testing"
)

func cronKey(err error) string {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Key
	}
	if err != nil {
		return "foreign: " + err.Error()
	}
	return ""
}

func TestValidateCronSchedule(t *testing.T) {
	good := []string{
		"* * * * *", "30 2 * * *", "*/15 * * * *", "0 8-17 * * mon-fri", "0 0 1,15 * *",
		"5 4 * jan-mar/2 sun", "0 0 * * 0", "0 0 * * 6", "0-59/5 * * * *", "05 00 * * *",
		"0 0 * JAN MON-FRI", "59 23 31 12 *",
		"@reboot", "@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually",
	}
	for _, s := range good {
		if err := ValidateCronSchedule("schedule", s); err != nil {
			t.Errorf("%q refused: %v", s, err)
		}
	}
	bad := map[string]string{
		"":                                     "err.required",
		"* * * *":                              "err.cron.schedule",
		"* * * * * *":                          "err.cron.schedule", // no seconds field
		"*  * * * *":                           "err.cron.schedule", // stored form has single spaces
		"60 * * * *":                           "err.cron.minute",
		"* 24 * * *":                           "err.cron.hour",
		"* * 0 * *":                            "err.cron.dom",
		"* * 32 * *":                           "err.cron.dom",
		"* * * 13 *":                           "err.cron.month",
		"* * * foo *":                          "err.cron.month",
		"* * * * 7":                            "err.cron.dow", // robfig: 0-6 only
		"* * * * monday":                       "err.cron.dow",
		"mon * * * *":                          "err.cron.minute", // names only for month and weekday
		"? * * * *":                            "err.cron.minute", // robfig yes, Debian cron no
		"5/10 * * * *":                         "err.cron.minute", // robfig: 5-59/10; Debian cron refuses
		"*-5 * * * *":                          "err.cron.minute",
		"1,,2 * * * *":                         "err.cron.minute",
		",1 * * * *":                           "err.cron.minute",
		"+5 * * * *":                           "err.cron.minute",
		"-5 * * * *":                           "err.cron.minute",
		"*/0 * * * *":                          "err.cron.minute",
		"*/ * * * *":                           "err.cron.minute",
		"5-1 * * * *":                          "err.cron.minute",
		"1-2-3 * * * *":                        "err.cron.minute",
		"CRON_TZ=UTC * * * * *":                "err.cron.schedule",
		"TZ=UTC * * * *":                       "err.cron.minute",
		"@every 1h":                            "err.cron.descriptor",
		"@DAILY":                               "err.cron.descriptor",
		"@daily true":                          "err.cron.descriptor",
		"@":                                    "err.cron.descriptor",
		"* * * * *\n* * * * * evil":            "err.cron.schedule",
		"* * * * *\r":                          "err.cron.schedule",
		"* * * * \x00":                         "err.cron.schedule",
		"* * * *\t*":                           "err.cron.schedule",
		"A=b * * * *":                          "err.cron.minute",
		strings.Repeat("1,", 60) + "1 * * * *": "err.cron.schedule",
	}
	for s, key := range bad {
		if got := cronKey(ValidateCronSchedule("schedule", s)); got != key {
			t.Errorf("%q: %s, want %s", s, got, key)
		}
	}
	// The message names the offending field value.
	var pe *Error
	if !errors.As(ValidateCronSchedule("schedule", "0 25 * * *"), &pe) || pe.Field != "schedule" || len(pe.Args) != 1 || pe.Args[0] != "25" {
		t.Errorf("hour error %+v", pe)
	}
}

func TestCleanCronSchedule(t *testing.T) {
	got, err := CleanCronSchedule("schedule", "  */5   *  * * *  ")
	if err != nil || got != "*/5 * * * *" {
		t.Errorf("CleanCronSchedule = %q, %v", got, err)
	}
	// A tab or line break is refused, not folded into a space.
	for _, s := range []string{"*/5\t* * * *", "* * * * *\n", "@daily\n* * * * * x"} {
		if _, err := CleanCronSchedule("schedule", s); cronKey(err) != "err.cron.schedule" {
			t.Errorf("%q: %v", s, err)
		}
	}
}

func TestValidateCronCommand(t *testing.T) {
	good := []string{
		"/home/web1/bin/backup.sh",
		`date +%Y-%m-%d >> "$HOME/log"`,
		"php /home/web1/html/cron.php 2>&1 | logger",
		"echo a=b",
		"a \\ b",
		"ünïcödé",
		strings.Repeat("x", MaxCronCommand),
		strings.Repeat("%", MaxCronCommand/2),
	}
	for _, s := range good {
		if err := ValidateCronCommand("command", s); err != nil {
			t.Errorf("%.40q refused: %v", s, err)
		}
	}
	bad := map[string]string{
		"":                                      "err.required",
		"   ":                                   "err.required",
		"true\n* * * * * evil":                  "err.cron.command_control",
		"true\r* * * * * evil":                  "err.cron.command_control",
		"true\x00evil":                          "err.cron.command_control",
		"true\tx":                               "err.cron.command_control",
		"true\x1b[2J":                           "err.cron.command_control",
		"true\u0085x":                           "err.cron.command_control", // NEL
		"bad \xff utf8":                         "err.cron.command_control",
		`date +\%s`:                             "err.cron.command_percent",
		"=x":                                    "err.cron.command_equals",
		"  =x":                                  "err.cron.command_equals",
		strings.Repeat("x", MaxCronCommand+1):   "err.cron.command_long",
		strings.Repeat("%", MaxCronCommand/2+1): "err.cron.command_long",
		strings.Repeat("x", MaxCronCommand-1) + "%": "err.cron.command_long",
	}
	for s, key := range bad {
		if got := cronKey(ValidateCronCommand("command", s)); got != key {
			t.Errorf("%.40q: %s, want %s", s, got, key)
		}
	}
	if c, err := CleanCronCommand("command", "  true  "); err != nil || c != "true" {
		t.Errorf("CleanCronCommand = %q, %v", c, err)
	}
}

func TestCrontabCommand(t *testing.T) {
	if got := CrontabCommand(`date +%Y-%m-%d; printf '\\%s'`); got != `date +\%Y-\%m-\%d; printf '\\\%s'` {
		t.Errorf("CrontabCommand = %s", got)
	}
}
