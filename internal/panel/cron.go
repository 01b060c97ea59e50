package panel

import (
	"strings"
	"unicode/utf8"

	"github.com/robfig/cron/v3"
)

// Cron jobs (SYS-1, LIM-2 cron_jobs): a schedule and a command that the
// agent writes into the user's crontab (Debian's cron, run as the user).
//
// A schedule is checked twice: lexically here, against what Debian's cron
// accepts, and by robfig/cron's parser for the ranges of each field. The
// lexical check is needed because robfig accepts forms that Debian's cron
// rejects ("?", "5/10", "1,,2", "+5", "CRON_TZ=…", "@every 1h"), and one
// line Debian's cron rejects makes it ignore the user's whole crontab.
//
// A command is what /bin/sh gets, literally. In a crontab an unescaped "%"
// ends the command (the rest becomes its standard input), so the agent
// writes every "%" as "\%" (CrontabCommand). Cron turns "\%" back into "%",
// but keeps other backslashes in pairs, so a backslash directly before a
// "%" cannot be passed through and is refused.

// MaxCronCommand is the longest command in bytes as it is written into the
// crontab (each "%" counts twice, as "\%"). Measured with Debian's cron
// 3.0pl1-162: a command part of 999 bytes or more makes cron ignore the
// whole crontab.
const MaxCronCommand = 998

// maxCronSchedule bounds a schedule; real ones are far shorter.
const maxCronSchedule = 100

// CronDescriptors are the "@" schedules Debian's cron accepts, in the
// order the help text lists them. "@reboot" runs the job when cron starts
// (after a reboot); robfig's "@every" is not cron syntax.
func CronDescriptors() []string {
	return []string{"@reboot", "@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually"}
}

// cronFields are the five fields in crontab order: the robfig option that
// parses one field alone and the message key that names it.
var cronFields = [5]struct {
	opt cron.ParseOption
	key string
}{
	{cron.Minute, "err.cron.minute"},
	{cron.Hour, "err.cron.hour"},
	{cron.Dom, "err.cron.dom"},
	{cron.Month, "err.cron.month"},
	{cron.Dow, "err.cron.dow"},
}

// CleanCronSchedule trims a schedule, joins its fields with single spaces
// and validates it; the result is what the store keeps.
func CleanCronSchedule(field, s string) (string, error) {
	if hasControl(s) {
		return "", Invalid(field, "err.cron.schedule")
	}
	s = strings.Join(strings.Fields(s), " ")
	return s, ValidateCronSchedule(field, s)
}

// ValidateCronSchedule checks a schedule in its stored form: five fields
// separated by single spaces (minute hour day-of-month month day-of-week),
// or one of CronDescriptors.
func ValidateCronSchedule(field, s string) error {
	if s == "" {
		return Invalid(field, "err.required")
	}
	if len(s) > maxCronSchedule || !utf8.ValidString(s) || hasControl(s) {
		return Invalid(field, "err.cron.schedule")
	}
	if strings.HasPrefix(s, "@") {
		for _, d := range CronDescriptors() {
			if s == d {
				return nil
			}
		}
		return Invalid(field, "err.cron.descriptor", strings.Join(CronDescriptors(), " "))
	}
	fields := strings.Split(s, " ")
	if len(fields) != 5 {
		return Invalid(field, "err.cron.schedule")
	}
	for i, f := range fields {
		if !cronFieldSyntax(f) {
			return Invalid(field, cronFields[i].key, f)
		}
		// The parser with a single field option reads exactly that field
		// and checks its bounds and names (months, weekdays).
		if _, err := cron.NewParser(cronFields[i].opt).Parse(f); err != nil {
			return Invalid(field, cronFields[i].key, f)
		}
	}
	// The whole schedule once more, as the five-field parser reads it.
	if _, err := cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow).Parse(s); err != nil {
		return Invalid(field, "err.cron.schedule")
	}
	return nil
}

// cronFieldSyntax checks one field against Debian's crontab(5) grammar: a
// comma-separated list of elements, each "*", a value or a range "a-b",
// optionally followed by a step "/n" ("*" or a range only). A value is
// digits or a three-letter name.
func cronFieldSyntax(f string) bool {
	for _, el := range strings.Split(f, ",") {
		base, step, hasStep := strings.Cut(el, "/")
		if hasStep && !isDigits(step) {
			return false
		}
		if base == "*" {
			continue
		}
		lo, hi, isRange := strings.Cut(base, "-")
		if !cronValue(lo) || isRange && !cronValue(hi) {
			return false
		}
		if hasStep && !isRange {
			return false // "5/10": robfig reads 5-max/10, cron refuses it
		}
	}
	return true
}

func cronValue(s string) bool {
	if isDigits(s) {
		return len(s) <= 2
	}
	if len(s) != 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" || len(s) > 4 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// CleanCronCommand trims a command and validates it; the result is what
// the store keeps.
func CleanCronCommand(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	return s, ValidateCronCommand(field, s)
}

// ValidateCronCommand checks a command: not empty, valid UTF-8 without any
// control character (CR, LF and NUL would start a second crontab line or
// cut it), no backslash directly before "%" (see above), not starting with
// "=" (after a descriptor cron would read "@daily =x" as a variable), and
// at most MaxCronCommand bytes once "%" is escaped.
func ValidateCronCommand(field, s string) error {
	if strings.TrimSpace(s) == "" {
		return Invalid(field, "err.required")
	}
	if !utf8.ValidString(s) || hasControl(s) {
		return Invalid(field, "err.cron.command_control")
	}
	if n := len(s) + strings.Count(s, "%"); n > MaxCronCommand {
		return Invalid(field, "err.cron.command_long", MaxCronCommand)
	}
	if strings.Contains(s, `\%`) {
		return Invalid(field, "err.cron.command_percent", "%")
	}
	if strings.HasPrefix(strings.TrimLeft(s, " "), "=") {
		return Invalid(field, "err.cron.command_equals")
	}
	return nil
}

// CrontabCommand returns a validated command as it is written into a
// crontab: every "%" escaped as "\%", so that cron hands the shell the
// command unchanged instead of cutting it at the "%".
func CrontabCommand(s string) string {
	return strings.ReplaceAll(s, "%", `\%`)
}
