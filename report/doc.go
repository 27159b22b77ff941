package report

import (
	"encoding/base64"
	"fmt"
	"html"
	"path/filepath"
	"strings"
)

// Doc is a report built from blocks (headings, paragraphs, tables, images,
// preformatted text, lists) and rendered twice: as markdown, with images as
// PNG files beside it, and as one self-contained HTML file with the images
// embedded as data URIs.
type Doc struct {
	Title  string
	blocks []block
}

type block struct {
	kind  string // h, p, table, image, pre, list
	level int
	text  string
	items []string
	table *Table
	image *docImage
}

type docImage struct {
	name, caption string
	png           []byte
}

// NewDoc starts a document with a title (the top heading).
func NewDoc(title string) *Doc { return &Doc{Title: title} }

// Heading adds a section heading; level 2 is a section, 3 a subsection.
func (d *Doc) Heading(level int, text string) {
	d.blocks = append(d.blocks, block{kind: "h", level: min(max(level, 2), 6), text: text})
}

// Paragraph adds a paragraph of plain text.
func (d *Doc) Paragraph(format string, args ...any) {
	d.blocks = append(d.blocks, block{kind: "p", text: fmt.Sprintf(format, args...)})
}

// Table adds a table (its title, when set, is shown as a caption).
func (d *Doc) Table(t *Table) { d.blocks = append(d.blocks, block{kind: "table", table: t}) }

// Image adds a PNG. name is its file name in the markdown version's plots/
// folder (e.g. "label_efficiency.png"); caption is its alt text and caption.
func (d *Doc) Image(name, caption string, png []byte) {
	d.blocks = append(d.blocks, block{kind: "image", image: &docImage{name: filepath.Base(name), caption: caption, png: png}})
}

// Pre adds preformatted text (an environment dump, a command line).
func (d *Doc) Pre(text string) { d.blocks = append(d.blocks, block{kind: "pre", text: text}) }

// List adds a bulleted list.
func (d *Doc) List(items ...string) { d.blocks = append(d.blocks, block{kind: "list", items: items}) }

// Markdown renders the document; images are referenced as plots/NAME.
func (d *Doc) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", d.Title)
	for _, bl := range d.blocks {
		switch bl.kind {
		case "h":
			fmt.Fprintf(&b, "%s %s\n\n", strings.Repeat("#", bl.level), bl.text)
		case "p":
			fmt.Fprintf(&b, "%s\n\n", bl.text)
		case "table":
			if bl.table.Title != "" {
				fmt.Fprintf(&b, "**%s**\n\n", bl.table.Title)
			}
			fmt.Fprintf(&b, "%s\n", bl.table.Markdown())
		case "image":
			fmt.Fprintf(&b, "![%s](plots/%s)\n\n", bl.image.caption, bl.image.name)
		case "pre":
			fmt.Fprintf(&b, "```\n%s\n```\n\n", strings.TrimRight(bl.text, "\n"))
		case "list":
			for _, it := range bl.items {
				fmt.Fprintf(&b, "- %s\n", it)
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// htmlStyle is the only styling: inline, no external fonts or scripts.
const htmlStyle = `body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:0.5em 0 1.5em}th,td{border:1px solid #ccc;padding:4px 10px;text-align:right}
th{background:#f2f2f2}td:first-child,th:first-child{text-align:left}caption{font-weight:bold;text-align:left;padding:4px 0}
figure{margin:1em 0 2em}img{max-width:100%;height:auto;border:1px solid #eee}figcaption{color:#555;font-size:0.9em}
pre{background:#f6f6f6;padding:0.8em;overflow-x:auto}`

// HTML renders the document as one self-contained page.
func (d *Doc) HTML() string {
	var b strings.Builder
	e := html.EscapeString
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>%s</title>\n<style>\n%s\n</style>\n</head>\n<body>\n<h1>%s</h1>\n", e(d.Title), htmlStyle, e(d.Title))
	for _, bl := range d.blocks {
		switch bl.kind {
		case "h":
			fmt.Fprintf(&b, "<h%d>%s</h%d>\n", bl.level, e(bl.text), bl.level)
		case "p":
			fmt.Fprintf(&b, "<p>%s</p>\n", e(bl.text))
		case "table":
			b.WriteString(tableHTML(bl.table))
		case "image":
			fmt.Fprintf(&b, "<figure><img src=\"data:image/png;base64,%s\" alt=\"%s\"><figcaption>%s</figcaption></figure>\n",
				base64.StdEncoding.EncodeToString(bl.image.png), e(bl.image.caption), e(bl.image.caption))
		case "pre":
			fmt.Fprintf(&b, "<pre>%s</pre>\n", e(bl.text))
		case "list":
			b.WriteString("<ul>\n")
			for _, it := range bl.items {
				fmt.Fprintf(&b, "<li>%s</li>\n", e(it))
			}
			b.WriteString("</ul>\n")
		}
	}
	b.WriteString("</body>\n</html>\n")
	return b.String()
}

// tableHTML renders a table with escaped cells.
func tableHTML(t *Table) string {
	var b strings.Builder
	e := html.EscapeString
	b.WriteString("<table>\n")
	if t.Title != "" {
		fmt.Fprintf(&b, "<caption>%s</caption>\n", e(t.Title))
	}
	b.WriteString("<thead><tr>")
	for _, c := range t.Columns {
		fmt.Fprintf(&b, "<th>%s</th>", e(c))
	}
	b.WriteString("</tr></thead>\n<tbody>\n")
	for _, r := range t.Rows {
		b.WriteString("<tr>")
		for _, c := range r {
			fmt.Fprintf(&b, "<td>%s</td>", e(t.Text(c)))
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody>\n</table>\n")
	return b.String()
}

// Write writes dir/base.md with its images under dir/plots/, and
// dir/base.html with the images embedded. It returns the two paths.
func (d *Doc) Write(dir, base string) (mdPath, htmlPath string, err error) {
	for _, bl := range d.blocks {
		if bl.kind == "image" {
			if err := WriteFile(filepath.Join(dir, "plots", bl.image.name), bl.image.png); err != nil {
				return "", "", err
			}
		}
	}
	mdPath = filepath.Join(dir, base+".md")
	htmlPath = filepath.Join(dir, base+".html")
	if err := WriteFile(mdPath, []byte(d.Markdown())); err != nil {
		return "", "", err
	}
	if err := WriteFile(htmlPath, []byte(d.HTML())); err != nil {
		return "", "", err
	}
	return mdPath, htmlPath, nil
}
