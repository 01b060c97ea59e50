package stats

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Test logs: lines in the shape real servers write, with known totals.

var testAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	"curl/8.5.0",
}

// vline writes one vhost_combined line.
func vline(vhost string, port int, day, hour int, month string, year int, bytes int64, rnd *rand.Rand) string {
	host := vhost
	if port > 0 {
		host = fmt.Sprintf("%s:%d", vhost, port)
	}
	b := fmt.Sprint(bytes)
	return fmt.Sprintf("%s 203.0.113.%d - - [%02d/%s/%d:%02d:%02d:%02d +0200] \"GET /p/%d.html HTTP/1.1\" 200 %s \"https://%s/\" \"%s\"\n",
		host, rnd.IntN(250), day, month, year, hour, rnd.IntN(60), rnd.IntN(60), rnd.IntN(100000), b, vhost,
		testAgents[rnd.IntN(len(testAgents))])
}

// benchLog returns n lines over vhosts site0.example …, spread over days
// so that each vhost has about as many lines per day as in a month of
// the 2,000,000-line benchmark log (bench/traffic.sh).
func benchLog(n, vhosts int) []byte {
	rnd := rand.New(rand.NewPCG(1, 2))
	days := max(1, n*30/2000000)
	var b strings.Builder
	for i := 0; i < n; i++ {
		day := 1 + i*days/n
		// Skewed like bench/trafficgen: a few busy sites, many quiet ones.
		v := fmt.Sprintf("site%d.example", int(float64(vhosts)*rnd.Float64()*rnd.Float64()))
		if rnd.IntN(3) == 0 {
			v = "www." + v
		}
		b.WriteString(vline(v, 443, day, 12, "Mar", 2026, int64(rnd.IntN(50000)), rnd))
	}
	return []byte(b.String())
}

func benchTargets(vhosts int) *Targets {
	d := map[string]int64{}
	for i := 0; i < vhosts; i++ {
		d[fmt.Sprintf("site%d.example", i)] = int64(i + 1)
	}
	return NewTargets(d, nil)
}
