package web

import (
	"io/fs"
	"net/http"

	"kontor/internal/panel"
)

func (s *Server) register() {
	static, _ := fs.Sub(staticFS, "static")
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static))))
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok\n")) })

	s.handle("GET", "/{$}", "", s.home)
	s.handle("GET", "/login", "", s.loginForm)
	s.handle("POST", "/login", "", s.loginSubmit)
	s.handle("POST", "/logout", "", s.logout)

	// Admin (ROLE-5).
	s.handle("GET", "/admin/{$}", panel.RoleAdmin, s.adminResellers)
	s.handle("GET", "/admin/resellers/new", panel.RoleAdmin, s.adminResellerNew)
	s.handle("POST", "/admin/resellers/new", panel.RoleAdmin, s.adminResellerCreate)
	s.handle("GET", "/admin/resellers/{id}", panel.RoleAdmin, s.adminReseller)
	s.handle("POST", "/admin/resellers/{id}/limits", panel.RoleAdmin, s.adminResellerLimits)
	s.handle("POST", "/admin/resellers/{id}/services", panel.RoleAdmin, s.adminResellerServices)
	s.handle("POST", "/admin/resellers/{id}/status", panel.RoleAdmin, s.adminResellerStatus)
	s.handle("POST", "/admin/resellers/{id}/delete", panel.RoleAdmin, s.adminResellerDelete)
	s.handle("POST", "/admin/resellers/{id}/mysql", panel.RoleAdmin, s.adminResellerMySQL)
	s.handle("GET", "/admin/ips", panel.RoleAdmin, s.adminIPs)
	s.handle("POST", "/admin/ips", panel.RoleAdmin, s.adminIPAdd)
	s.handle("POST", "/admin/ips/{id}/owner", panel.RoleAdmin, s.adminIPOwner)
	s.handle("POST", "/admin/ips/{id}/delete", panel.RoleAdmin, s.adminIPDelete)
	s.handle("GET", "/admin/settings", panel.RoleAdmin, s.adminSettings)
	s.handle("POST", "/admin/settings", panel.RoleAdmin, s.adminSettingsSave)
	s.handle("GET", "/admin/messages", panel.RoleAdmin, s.messages)
	s.accountPages("/admin", panel.RoleAdmin)

	// Reseller (GEN-1): five menus, each with an overview of its tools.
	s.handle("GET", "/reseller/{$}", panel.RoleReseller, s.resellerHome)
	s.handle("GET", "/reseller/{menu}/{$}", panel.RoleReseller, s.resellerMenu)
	s.handle("GET", "/reseller/{menu}/{tool}", panel.RoleReseller, s.resellerComing)
	s.handle("GET", "/reseller/general/messages", panel.RoleReseller, s.messages)
	s.handle("GET", "/reseller/users/list", panel.RoleReseller, s.resellerUsers)
	s.handle("GET", "/reseller/user/{id}", panel.RoleReseller, s.resellerUser)
	s.accountPages("/reseller/general", panel.RoleReseller)

	// User.
	s.handle("GET", "/user/{$}", panel.RoleUser, s.userHome)
	s.accountPages("/user", panel.RoleUser)

	// Features in files of their own register their pages here.
	s.registerTemplates()
	s.registerUserPages()
	s.registerCircular()
	s.registerServiceLists()
	s.registerStats()
	s.registerIndexSetup()
	s.registerSystemFiles()

	s.registerAPI()
}

// accountPages are the pages every role has for its own account.
func (s *Server) accountPages(prefix string, role panel.Role) {
	s.handle("GET", prefix+"/password", role, s.passwordForm)
	s.handle("POST", prefix+"/password", role, s.passwordSubmit)
	s.handle("GET", prefix+"/language", role, s.languageForm)
	s.handle("POST", prefix+"/language", role, s.languageSubmit)
}

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// roleHome is where each role lands after login.
func roleHome(role panel.Role) string {
	switch role {
	case panel.RoleAdmin:
		return "/admin/"
	case panel.RoleReseller:
		return "/reseller/"
	case panel.RoleUser:
		return "/user/"
	}
	return "/login"
}
