package web

import "kontor/internal/panel"

// tool is an entry of a menu and a tile on the menu's overview.
type tool struct {
	Slug  string
	Key   string // catalogue key of its name
	Icon  string // symbol id in static/icons.svg
	URL   string
	Ready bool // false: the tool's page is not built yet and says "coming"
}

// menu is one of the drop-down menus.
type menu struct {
	Slug  string
	Key   string
	URL   string
	Tools []tool
}

// resellerMenus is the reseller panel's navigation (GEN-1): five menus,
// each with an Overview. It is final; tools a later release fills show a
// "coming" page until then.
func resellerMenus() []menu {
	m := []menu{
		{Slug: "general", Key: "menu.general", Tools: []tool{
			{Slug: "password", Key: "tool.password", Icon: "key"},
			{Slug: "language", Key: "tool.language", Icon: "globe"},
			{Slug: "messages", Key: "tool.messages", Icon: "bell"},
		}},
		{Slug: "templates", Key: "menu.templates", Tools: []tool{
			{Slug: "create", Key: "tool.template_create", Icon: "plus"},
			{Slug: "edit", Key: "tool.template_edit", Icon: "edit"},
			{Slug: "email", Key: "tool.template_email", Icon: "mail"},
			{Slug: "create-user", Key: "tool.user_create", Icon: "user"},
		}},
		{Slug: "settings", Key: "menu.settings", Tools: []tool{
			{Slug: "skins", Key: "tool.skins", Icon: "palette"},
			{Slug: "index", Key: "tool.index", Icon: "file"},
			{Slug: "help", Key: "tool.help", Icon: "help"},
		}},
		{Slug: "users", Key: "menu.users", Tools: []tool{
			{Slug: "list", Key: "tool.user_list", Icon: "list"},
			{Slug: "create", Key: "tool.user_create", Icon: "user"},
			{Slug: "circular", Key: "tool.circular", Icon: "megaphone"},
			{Slug: "frontpage", Key: "tool.frontpage", Icon: "upload"},
			{Slug: "ssl", Key: "tool.ssl", Icon: "lock"},
			{Slug: "mysql", Key: "tool.mysql", Icon: "database"},
		}},
		{Slug: "stats", Key: "menu.stats", Tools: []tool{
			{Slug: "users", Key: "tool.user_stats", Icon: "chart"},
			{Slug: "traffic", Key: "tool.traffic", Icon: "trend"},
		}},
	}
	for i := range m {
		m[i].URL = "/reseller/" + m[i].Slug + "/"
		for j := range m[i].Tools {
			m[i].Tools[j].URL = m[i].URL + m[i].Tools[j].Slug
		}
	}
	return m
}

func adminMenus() []menu {
	return []menu{
		{Slug: "resellers", Key: "menu.resellers", URL: "/admin/", Tools: []tool{
			{Slug: "list", Key: "tool.reseller_list", URL: "/admin/"},
			{Slug: "new", Key: "tool.reseller_create", URL: "/admin/resellers/new"},
		}},
		{Slug: "server", Key: "menu.server", URL: "/admin/settings", Tools: []tool{
			{Slug: "settings", Key: "tool.server_settings", URL: "/admin/settings"},
			{Slug: "ips", Key: "tool.ips", URL: "/admin/ips"},
			{Slug: "system-files", Key: "tool.system_files", URL: "/admin/system-files"},
			{Slug: "messages", Key: "tool.messages", URL: "/admin/messages"},
			{Slug: "stats", Key: "tool.server_stats", URL: "/admin/stats"},
			{Slug: "password", Key: "tool.password", URL: "/admin/password"},
			{Slug: "language", Key: "tool.language", URL: "/admin/language"},
		}},
	}
}

func userMenus() []menu {
	return []menu{
		{Slug: "home", Key: "menu.home", URL: "/user/", Tools: []tool{
			{Slug: "overview", Key: "tool.overview", URL: "/user/"},
			{Slug: "password", Key: "tool.password", URL: "/user/password"},
			{Slug: "language", Key: "tool.language", URL: "/user/language"},
			{Slug: "frontpage", Key: "tool.frontpage", URL: "/user/frontpage"},
		}},
	}
}

func navFor(a panel.Actor) []menu {
	switch a.Role {
	case panel.RoleAdmin:
		return adminMenus()
	case panel.RoleReseller:
		return resellerMenus()
	case panel.RoleUser:
		return userMenus()
	}
	return nil
}

// findMenu returns the reseller menu with slug.
func findMenu(slug string) (menu, bool) {
	for _, m := range resellerMenus() {
		if m.Slug == slug {
			return m, true
		}
	}
	return menu{}, false
}

// markReady sets Ready on every tool whose URL has a page of its own; the
// others fall through to the "coming" page.
func (s *Server) markReady(ms []menu) []menu {
	for i := range ms {
		for j := range ms[i].Tools {
			ms[i].Tools[j].Ready = s.hasPage(ms[i].Tools[j].URL)
		}
	}
	return ms
}

// hasPage reports whether a GET route other than the "coming" catch-all
// serves url.
func (s *Server) hasPage(url string) bool {
	for _, r := range s.routes {
		if r.Method == "GET" && !r.API && r.Pattern == url {
			return true
		}
	}
	return false
}
