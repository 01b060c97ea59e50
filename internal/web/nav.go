package web

import "kontor/internal/panel"

// tool is an entry of a menu and a tile on the menu's overview.
type tool struct {
	Slug  string
	Key   string // catalogue key of its name
	Icon  string // glyph shown on the tile
	URL   string
	Ready bool // false: the page says the tool is coming
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
			{Slug: "password", Key: "tool.password", Icon: "🔑", Ready: true},
			{Slug: "language", Key: "tool.language", Icon: "🌐", Ready: true},
			{Slug: "messages", Key: "tool.messages", Icon: "✉", Ready: true},
		}},
		{Slug: "templates", Key: "menu.templates", Tools: []tool{
			{Slug: "create", Key: "tool.template_create", Icon: "＋"},
			{Slug: "edit", Key: "tool.template_edit", Icon: "✎"},
			{Slug: "email", Key: "tool.template_email", Icon: "✉"},
			{Slug: "create-user", Key: "tool.user_create", Icon: "👤"},
		}},
		{Slug: "settings", Key: "menu.settings", Tools: []tool{
			{Slug: "skins", Key: "tool.skins", Icon: "🎨"},
			{Slug: "index", Key: "tool.index", Icon: "📄"},
			{Slug: "help", Key: "tool.help", Icon: "?"},
		}},
		{Slug: "users", Key: "menu.users", Tools: []tool{
			{Slug: "list", Key: "tool.user_list", Icon: "☰", Ready: true},
			{Slug: "create", Key: "tool.user_create", Icon: "👤"},
			{Slug: "circular", Key: "tool.circular", Icon: "📣"},
			{Slug: "frontpage", Key: "tool.frontpage", Icon: "⇪"},
			{Slug: "ssl", Key: "tool.ssl", Icon: "🔒"},
			{Slug: "mysql", Key: "tool.mysql", Icon: "🗄"},
		}},
		{Slug: "stats", Key: "menu.stats", Tools: []tool{
			{Slug: "users", Key: "tool.user_stats", Icon: "📊"},
			{Slug: "traffic", Key: "tool.traffic", Icon: "📈"},
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
			{Slug: "list", Key: "tool.reseller_list", URL: "/admin/", Ready: true},
			{Slug: "new", Key: "tool.reseller_create", URL: "/admin/resellers/new", Ready: true},
		}},
		{Slug: "server", Key: "menu.server", URL: "/admin/settings", Tools: []tool{
			{Slug: "settings", Key: "tool.server_settings", URL: "/admin/settings", Ready: true},
			{Slug: "ips", Key: "tool.ips", URL: "/admin/ips", Ready: true},
			{Slug: "messages", Key: "tool.messages", URL: "/admin/messages", Ready: true},
			{Slug: "password", Key: "tool.password", URL: "/admin/password", Ready: true},
			{Slug: "language", Key: "tool.language", URL: "/admin/language", Ready: true},
		}},
	}
}

func userMenus() []menu {
	return []menu{
		{Slug: "home", Key: "menu.home", URL: "/user/", Tools: []tool{
			{Slug: "overview", Key: "tool.overview", URL: "/user/", Ready: true},
			{Slug: "password", Key: "tool.password", URL: "/user/password", Ready: true},
			{Slug: "language", Key: "tool.language", URL: "/user/language", Ready: true},
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
