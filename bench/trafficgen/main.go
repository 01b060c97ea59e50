// Command trafficgen writes the input of bench/traffic.sh: a vhost_combined
// access log of one month over many vhosts, and a store in which each
// vhost's domain belongs to a user, so that `kontor stats collect` can read
// the log from a cold offset. The log is generated, never committed.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"kontor/internal/panel"
	"kontor/internal/store"
)

func main() {
	lines := flag.Int("lines", 2000000, "number of log `LINES`")
	vhosts := flag.Int("vhosts", 1000, "number of `VHOSTS` (one user and domain each)")
	month := flag.String("month", time.Now().Format("2006-01"), "the `MONTH` (YYYY-MM) the log covers")
	logPath := flag.String("log", "", "write the log to `FILE` (required)")
	db := flag.String("db", "", "create a store with the users and domains at `DSN` (optional)")
	flag.Parse()
	if *logPath == "" || *lines <= 0 || *vhosts <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	start, err := time.Parse("2006-01", *month)
	if err != nil {
		fmt.Fprintf(os.Stderr, "trafficgen: --month: %v\n", err)
		os.Exit(2)
	}
	total, err := writeLog(*logPath, *lines, *vhosts, start)
	if err != nil {
		fmt.Fprintf(os.Stderr, "trafficgen: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("log: %s, %d lines, %d bytes of traffic\n", *logPath, *lines, total)
	if *db != "" {
		if err := seed(context.Background(), *db, *vhosts); err != nil {
			fmt.Fprintf(os.Stderr, "trafficgen: %v\n", err)
			os.Exit(1)
		}
		fmt.Printf("store: %s, %d users with one domain each\n", *db, *vhosts)
	}
}

func domain(i int) string { return "site" + strconv.Itoa(i) + ".example" }

var agents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
	"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
	"curl/8.5.0",
}

var paths = []string{"/", "/index.php", "/wp-login.php", "/css/site.css", "/js/app.js", "/images/logo.png",
	"/blog/2026/03/hello-world/", "/shop/cart?item=1234", "/favicon.ico", "/robots.txt", "/contact.html"}

var statuses = []int{200, 200, 200, 200, 200, 200, 304, 304, 301, 404, 500}

// writeLog writes lines in time order over the month; vhosts are chosen
// with a skew (a few busy sites, many quiet ones), 1 in 3 with "www.",
// 1 in 100 an unknown one.
func writeLog(path string, lines, vhosts int, month time.Time) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rnd := rand.New(rand.NewPCG(5, 2026))
	end := month.AddDate(0, 1, 0)
	span := end.Sub(month)
	var total int64
	var b []byte
	for i := 0; i < lines; i++ {
		t := month.Add(time.Duration(int64(span) / int64(lines) * int64(i)))
		v := int(float64(vhosts) * rnd.Float64() * rnd.Float64())
		host := domain(v)
		switch {
		case rnd.IntN(100) == 0:
			host = "unknown" + strconv.Itoa(rnd.IntN(50)) + ".example.net"
		case rnd.IntN(3) == 0:
			host = "www." + host
		}
		port := "443"
		if rnd.IntN(4) == 0 {
			port = "80"
		}
		status := statuses[rnd.IntN(len(statuses))]
		size := int64(rnd.IntN(60000))
		if status == 304 {
			size = 180
		}
		total += size
		b = b[:0]
		b = append(b, host...)
		b = append(b, ':')
		b = append(b, port...)
		b = fmt.Appendf(b, " 198.51.100.%d - - ", rnd.IntN(254)+1)
		b = t.AppendFormat(b, "[02/Jan/2006:15:04:05 -0700]")
		b = fmt.Appendf(b, " \"GET %s HTTP/1.1\" %d %d \"https://%s/\" \"%s\"\n",
			paths[rnd.IntN(len(paths))], status, size, host, agents[rnd.IntN(len(agents))])
		if _, err := w.Write(b); err != nil {
			return 0, err
		}
	}
	if err := w.Flush(); err != nil {
		return 0, err
	}
	return total, f.Close()
}

// seed creates a store with one reseller and a user per vhost.
func seed(ctx context.Context, dsn string, vhosts int) error {
	st, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	admin := panel.Actor{Role: panel.RoleAdmin, Login: "bench"}
	r, err := st.CreateReseller(ctx, admin, store.NewReseller{PasswordHash: "-", DefaultHash: "-", Name: "Bench",
		Limits: panel.ResellerLimits{
			panel.ResUsers:   {Value: panel.Unlimited, Mode: panel.ModeMaximum},
			panel.ResTraffic: {Value: panel.Unlimited, Mode: panel.ModeMaximum, AllowUnlimited: true},
		}})
	if err != nil {
		return err
	}
	batch := make([]store.NewUser, vhosts)
	for i := range batch {
		batch[i] = store.NewUser{ResellerID: r.ID, PasswordHash: "-",
			Limits:  panel.Limits{panel.ResTraffic: 10000},
			Domains: []store.NewDomain{{Name: domain(i), DNS: true}}}
	}
	_, err = st.CreateUsers(ctx, admin, r.ID, batch)
	return err
}
