package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"

	"github.com/auditbus/auditbus/router/auth"
)

// layoutData is what the layout renders around a page's content.
type layoutData struct {
	Title    string
	Nav      []navLink
	Identity string // the signed-in identity; "" with auth off
	AuthOff  bool
	CSRF     string
	Page     any
}

var funcs = template.FuncMap{
	"json": func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b)
	},
	"join": strings.Join,
	"seconds": func(s float64) string {
		return fmt.Sprintf("%.0f s", s)
	},
}

// templates are the page templates by file name, parsed at start-up: a
// broken one fails every test of the package.
var templates = parseTemplates()

// parseTemplates parses every page template with the layout and the
// partials: one template set per page file, so each defines its own
// "content".
func parseTemplates() map[string]*template.Template {
	names, _ := fs.Glob(templateFS, "templates/*.html") // fails only for a bad pattern
	out := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimPrefix(n, "templates/")
		if base == "layout.html" || base == "partials.html" {
			continue
		}
		out[base] = template.Must(template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", n))
	}
	return out
}

// render answers status with page file name (a template in templates/)
// in the layout, titled title, showing data.
func (rq *request) render(status int, name, title string, data any) {
	t := templates[name]
	if t == nil {
		panic("console: no template " + name) // a programming error, found by any test of the page
	}
	ld := layoutData{Title: title, CSRF: rq.csrf, Page: data, AuthOff: rq.c.auth == nil}
	if rq.id != nil || rq.c.auth == nil {
		ld.Nav = rq.c.nav(rq.id, rq.r.URL.Path)
	}
	if rq.id != nil {
		ld.Identity = rq.id.Name
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", ld); err != nil {
		rq.c.opts.Log.Error().Err(err).Str("template", name).Msg("console page failed to render")
		http.Error(rq.w, "the console page failed to render; the server log has why", http.StatusInternalServerError)
		return
	}
	h := rq.w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	rq.w.WriteHeader(status)
	rq.w.Write(buf.Bytes())
}

// identityOf is id's name for messages.
func identityOf(id *auth.Identity) string {
	if id == nil {
		return "(auth off)"
	}
	return id.Name
}
