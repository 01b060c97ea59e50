package app

import (
	"context"
	"strings"

	"kontor/internal/panel"
	"kontor/internal/store"
)

// IndexPreviewLogin is the login the index setup's preview shows the page
// for: the first user a reseller would create.
const IndexPreviewLogin = "web1"

// IndexSetup returns the reseller's start page for new users (SET-2).
func (a *App) IndexSetup(ctx context.Context, actor panel.Actor, resellerID int64) (store.IndexSetup, error) {
	return a.Store.GetIndexSetup(ctx, actor, resellerID)
}

// CheckIndexSetup tidies a submitted setup and checks it without storing
// it (the page's preview button). The name is trimmed and a blank one
// means the default "index.html"; the page's line breaks become LF
// (browsers send a textarea's as CRLF), so the file on the server is a
// plain Unix text file, and a page of only white space is no page.
func CheckIndexSetup(in store.IndexSetup) (store.IndexSetup, error) {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		in.Name = store.DefaultIndexName
	}
	in.HTML = strings.ReplaceAll(in.HTML, "\r\n", "\n")
	if strings.TrimSpace(in.HTML) == "" {
		in.HTML = ""
	}
	return in, store.ValidateIndexSetup(in)
}

// SaveIndexSetup tidies the setup as CheckIndexSetup does and stores it;
// the store checks it again and decides whether actor may.
func (a *App) SaveIndexSetup(ctx context.Context, actor panel.Actor, resellerID int64, in store.IndexSetup) (store.IndexSetup, error) {
	in, err := CheckIndexSetup(in)
	if err != nil {
		return in, err
	}
	return in, a.Store.SetIndexSetup(ctx, actor, resellerID, in)
}

// IndexPreview is the page as the agent installs it for login: ##user##
// and ##login## replaced, in one pass.
func IndexPreview(html, login string) string {
	return panel.RenderTags(html, map[string]string{panel.TagUser: login, panel.TagLogin: login})
}
