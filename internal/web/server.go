// Package web is the server-rendered panel: handlers, middleware and the
// embedded templates and stylesheet. Handlers call the app service layer;
// authorization is decided there and in the store, the role guard here
// only keeps each tier in its own part of the site.
package web

import (
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"kontor/internal/app"
	"kontor/internal/i18n"
	"kontor/internal/panel"
	"kontor/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure the web server.
type Options struct {
	App     *app.App
	Catalog *i18n.Catalog
	Log     *slog.Logger
	// SecureCookies forces the Secure flag (behind a TLS proxy); requests
	// that arrive over TLS get it anyway.
	SecureCookies bool
	// SandboxRoot is the demo's sandbox root ("" otherwise): the admin
	// gets a read-only view of the files the agent generated there.
	SandboxRoot string
}

// Server is the web panel and JSON API.
type Server struct {
	app     *app.App
	cat     *i18n.Catalog
	log     *slog.Logger
	secure  bool
	sandbox string // Options.SandboxRoot
	pages   map[string]*template.Template
	mux     *http.ServeMux
	routes  []Route
}

// Route is one registered page, kept so that tests can walk every route
// with every role (ROLE-4).
type Route struct {
	Method  string
	Pattern string     // as given to ServeMux, e.g. "/reseller/users/{id}"
	Role    panel.Role // "" on an API route: any logged-in role
	API     bool       // JSON API: bearer token instead of cookie + CSRF
}

// New parses the templates (a missing or broken one fails here, not on a
// request) and registers every route.
func New(opt Options) (*Server, error) {
	if opt.App == nil || opt.Catalog == nil {
		return nil, errors.New("web: App and Catalog are required")
	}
	s := &Server{app: opt.App, cat: opt.Catalog, log: opt.Log, secure: opt.SecureCookies, sandbox: opt.SandboxRoot, mux: http.NewServeMux()}
	if s.log == nil {
		s.log = slog.Default()
	}
	var err error
	if s.pages, err = parseTemplates(); err != nil {
		return nil, err
	}
	s.register()
	return s, nil
}

// Routes returns the registered role routes.
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

// Handler returns the whole site with its middleware.
func (s *Server) Handler() http.Handler { return s.recoverer(s.headers(s.mux)) }

func parseTemplates() (map[string]*template.Template, error) {
	// layout.html and every partial file (name starting with "_") are shared
	// by all pages; every other file is a page defining "content".
	base, err := template.New("layout.html").Funcs(funcs()).ParseFS(templateFS, "templates/layout.html", "templates/_*.html")
	if err != nil {
		return nil, fmt.Errorf("web templates: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web templates: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" || strings.HasPrefix(name, "_") {
			continue
		}
		t, err := base.Clone()
		if err != nil {
			return nil, fmt.Errorf("web template %s: %w", name, err)
		}
		if _, err := t.ParseFS(templateFS, n); err != nil {
			return nil, fmt.Errorf("web template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// handle registers a role page. role "" means public.
func (s *Server) handle(method, pattern string, role panel.Role, h func(http.ResponseWriter, *http.Request, *Page)) {
	if role != "" {
		s.routes = append(s.routes, Route{Method: method, Pattern: pattern, Role: role})
	}
	s.mux.Handle(method+" "+pattern, s.page(role, h))
}

// reqSession is what the session middleware found.
type reqSession struct {
	token string
	ss    store.Session
	actor panel.Actor
	lang  string
	acct  panel.Account
}

// page wraps a handler with session loading, the role guard and CSRF
// checking of every state-changing request.
func (s *Server) page(role panel.Role, h func(http.ResponseWriter, *http.Request, *Page)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := s.newPage(r)
		if role != "" {
			rs, ok := s.authorize(w, r, p, role)
			if !ok {
				return
			}
			if r.Method == http.MethodPost && !validCSRF(r, rs.ss.CSRF) {
				s.fail(w, r, p, panel.Forbidden("csrf", "err.csrf"))
				return
			}
		}
		h(w, r, p)
	})
}

// authorize loads the session into p and checks the role. When it returns
// false it has answered: a redirect to the login, or an error page.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, p *Page, role panel.Role) (*reqSession, bool) {
	rs, err := s.loadSession(r)
	if err != nil {
		if panel.ErrorKind(err) == panel.KindUnauthorized {
			http.Redirect(w, r, "/login?next="+urlEscape(r.URL.Path), http.StatusSeeOther)
			return nil, false
		}
		s.fail(w, r, p, err)
		return nil, false
	}
	p.setSession(rs)
	if rs.actor.Role != role {
		s.fail(w, r, p, panel.Forbidden("", "err.forbidden"))
		return nil, false
	}
	return rs, true
}

func validCSRF(r *http.Request, want string) bool {
	got := r.PostFormValue("csrf")
	if got == "" {
		got = r.Header.Get("X-CSRF-Token")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

const sessionCookie = "kontor_session"

func (s *Server) loadSession(r *http.Request) (*reqSession, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, &panel.Error{Kind: panel.KindUnauthorized, Key: "err.session"}
	}
	ss, actor, err := s.app.Session(r.Context(), c.Value)
	if err != nil {
		return nil, err
	}
	return &reqSession{token: c.Value, ss: ss, actor: actor, lang: ss.Account.Language, acct: ss.Account}, nil
}

func (s *Server) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: s.secure || r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

// headers sets the security headers every response carries.
func (s *Server) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		if r.TLS != nil || s.secure {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		// Form bodies are small; anything larger is refused before parsing.
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic", "path", r.URL.Path, "panic", v)
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// status maps an error kind to its HTTP status: the one place that does.
func status(err error) int {
	switch panel.ErrorKind(err) {
	case panel.KindInvalid:
		return http.StatusUnprocessableEntity
	case panel.KindNotFound:
		return http.StatusNotFound
	case panel.KindForbidden:
		return http.StatusForbidden
	case panel.KindConflict:
		return http.StatusConflict
	case panel.KindUnauthorized:
		return http.StatusUnauthorized
	case panel.KindThrottled:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// fail renders an error page: the safe message for the person, the cause
// for the log.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, p *Page, err error) {
	code := status(err)
	if code == http.StatusInternalServerError {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	p.Title = "page.error"
	p.Data = s.cat.Error(p.Lang, err)
	s.render(w, code, "error", p)
}

// render executes a page template into a buffer first, so that a template
// error never sends half a page.
func (s *Server) render(w http.ResponseWriter, code int, name string, p *Page) {
	t, ok := s.pages[name]
	if !ok {
		s.log.Error("missing template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout.html", p); err != nil {
		s.log.Error("render", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(b.String()))
}

// clientIP is the address a request came from, for login throttling.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Serve runs the handler on addr until ctx ends, then shuts down gracefully.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}
