package app

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"
	"unicode"

	"kontor/internal/mail"
	"kontor/internal/panel"
	"kontor/internal/store"
)

// CircularInput is a circular as the reseller composes it (USR-4).
type CircularInput struct {
	FromName string
	From     string
	Subject  string
	Body     string
}

// CircularTags are the tags a circular may use, filled in per recipient.
// They are the registration mail's tags that mean something for every
// user; ##password## and the like do not (and must not) appear.
func CircularTags() []string {
	return []string{panel.TagLogin, panel.TagName, panel.TagCompany, panel.TagEmail}
}

// tagRe finds everything written like a tag, so that a misspelt one is
// refused at compose time instead of reaching 10,000 customers.
var tagRe = regexp.MustCompile(`##([A-Za-z0-9_.-]+)##`)

func checkCircularTags(field, text string) error {
	for _, m := range tagRe.FindAllStringSubmatch(text, -1) {
		ok := false
		for _, t := range CircularTags() {
			ok = ok || m[1] == t
		}
		if !ok {
			return panel.Invalid(field, "err.circular.tag", m[0])
		}
	}
	return nil
}

// clean checks a composed circular: the sender, subject and body must make
// a valid mail for every recipient (no line break in a header value, a
// plain sender address), and only circular tags may appear.
func (in CircularInput) clean() (store.NewCircular, error) {
	var out store.NewCircular
	var err error
	if out.FromName, err = mail.CheckName("from_name", in.FromName, false, panel.MaxTextLen); err != nil {
		return out, err
	}
	if err = mail.CheckHeader("from", in.From); err != nil {
		return out, err
	}
	if out.From, err = panel.ValidateEmail("from", in.From, true); err != nil {
		return out, err
	}
	if out.Subject, err = mail.CheckName("subject", in.Subject, true, mail.MaxSubjectLen); err != nil {
		return out, err
	}
	if err = checkCircularTags("subject", out.Subject); err != nil {
		return out, err
	}
	if err = mail.CheckBody("body", in.Body, true); err != nil {
		return out, err
	}
	out.Body = strings.ReplaceAll(strings.ReplaceAll(in.Body, "\r\n", "\n"), "\r", "\n")
	if err = checkCircularTags("body", out.Body); err != nil {
		return out, err
	}
	return out, nil
}

// CircularDefaults is a new circular's sender: the reseller's name (or
// company) and address.
func (a *App) CircularDefaults(ctx context.Context, actor panel.Actor) (CircularInput, error) {
	if actor.Role != panel.RoleReseller || actor.ActingID != 0 {
		return CircularInput{}, panel.Forbidden("", "err.forbidden")
	}
	r, err := a.Store.Reseller(ctx, actor, actor.ID)
	if err != nil {
		return CircularInput{}, err
	}
	name := r.Name
	if name == "" {
		name = r.Company
	}
	return CircularInput{FromName: name, From: r.Email}, nil
}

// ComposeCircular stores a checked draft with every user selected.
func (a *App) ComposeCircular(ctx context.Context, actor panel.Actor, in CircularInput) (int64, error) {
	nc, err := in.clean()
	if err != nil {
		return 0, err
	}
	return a.Store.CreateCircular(ctx, actor, nc)
}

// UpdateCircular changes a draft's text (Back from the recipients).
func (a *App) UpdateCircular(ctx context.Context, actor panel.Actor, id int64, in CircularInput) error {
	nc, err := in.clean()
	if err != nil {
		return err
	}
	return a.Store.UpdateCircular(ctx, actor, id, nc)
}

// QueueCircular hands a draft to the background runner; it returns the
// number of recipients at once, the mails go out afterwards.
func (a *App) QueueCircular(ctx context.Context, actor panel.Actor, id int64) (int, error) {
	return a.Store.QueueCircular(ctx, actor, id)
}

// SendCircular composes and queues a circular in one step (the API): to
// every user with an address when all is set, else to the users in ids.
func (a *App) SendCircular(ctx context.Context, actor panel.Actor, in CircularInput, all bool, ids []int64) (int64, int, error) {
	nc, err := in.clean()
	if err != nil {
		return 0, 0, err
	}
	return a.Store.SendCircular(ctx, actor, nc, all, ids)
}

// RunnerOptions tune the circular runner.
type RunnerOptions struct {
	// Interval between looks at the queue when it is empty; 1 s when 0.
	Interval time.Duration
	// Lease after which a recipient left in "sending" by a process that
	// died is taken up again; twice the mail timeout plus a minute when 0.
	Lease time.Duration
	// MaxAttempts: a recipient interrupted this often is failed instead
	// of sent again; 2 when 0 (the first try and one retry).
	MaxAttempts int
}

func (o RunnerOptions) withDefaults() RunnerOptions {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Lease <= 0 {
		o.Lease = 2*mail.DefaultTimeout + time.Minute
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 2
	}
	return o
}

// RunCirculars sends queued circulars until ctx ends: it works through
// every pending recipient one by one, then looks again every Interval.
// The queue is in the store, so a restart resumes where it stopped, and
// several panels on one database share the work.
func (a *App) RunCirculars(ctx context.Context, opt RunnerOptions) {
	opt = opt.withDefaults()
	t := time.NewTicker(opt.Interval)
	defer t.Stop()
	for {
		if _, err := a.SendQueuedCirculars(ctx, opt); err != nil && ctx.Err() == nil {
			a.Log.Error("circulars", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SendQueuedCirculars sends every recipient waiting now and returns how
// many it handled.
func (a *App) SendQueuedCirculars(ctx context.Context, opt RunnerOptions) (int, error) {
	opt = opt.withDefaults()
	n := 0
	for ctx.Err() == nil {
		job, ok, err := a.Store.ClaimCircularRecipient(ctx, opt.Lease, opt.MaxAttempts)
		if err != nil || !ok {
			return n, err
		}
		err = a.deliver(ctx, circularMail(job))
		if err != nil && ctx.Err() != nil {
			// Shutting down: the row stays "sending" and is retried after
			// the lease, counted as an interrupted attempt.
			return n, nil
		}
		text, key := "", ""
		if err != nil {
			// The relay's reply is shown as it is; a message Kontor refused
			// itself (an address that is no longer valid) by its key.
			var pe *panel.Error
			if errors.As(err, &pe) && pe.Kind == panel.KindInvalid {
				key = pe.Key
			} else {
				text = failureText(err)
			}
			a.Log.Info("circular recipient failed", "circular", job.Circular.ID, "login", job.Recipient.Login, "err", err)
		}
		// The result is recorded even when ctx ended meanwhile: the mail
		// went out, and a retry would send it twice.
		if err := a.Store.FinishCircularRecipient(context.WithoutCancel(ctx), job.Circular.ID, job.Recipient.UserID, text, key); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// circularMail is the circular for one recipient, tags filled in.
func circularMail(job store.CircularJob) mail.Message {
	r := job.Recipient
	vals := map[string]string{
		panel.TagLogin:   r.Login,
		panel.TagName:    r.Name,
		panel.TagCompany: r.Company,
		panel.TagEmail:   r.Email,
	}
	c := job.Circular
	return mail.Message{
		FromName: c.FromName,
		From:     c.From,
		ToName:   r.Name,
		To:       r.Email,
		Subject:  flatten(panel.RenderTags(c.Subject, vals)),
		Body:     panel.RenderTags(c.Body, vals),
	}
}

// flatten turns control characters into spaces: the subject is a header,
// and a stored name with a line break must not make it two.
func flatten(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// RetryCircular sends a circular again to the recipients it failed for.
func (a *App) RetryCircular(ctx context.Context, actor panel.Actor, id int64) (int, error) {
	return a.Store.RetryCircular(ctx, actor, id)
}
