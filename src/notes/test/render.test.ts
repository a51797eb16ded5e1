import t from 'tap'
import { buildWorkerTestApp } from '../../../test/helpers/workers.js'
import render from '../render.task.js'

/** Hostile input: each item must render with nothing executable left. */
const HOSTILE = [
  '<script>alert(1)</script>',
  '<SCRIPT SRC=//evil.example/x.js></SCRIPT>',
  '<scr<script>ipt>alert(1)</script>',
  '<<script>script>alert(1)<</script>/script>',
  '<img src=x onerror=alert(1)>',
  '<img src="javascript:alert(1)">',
  '<IMG SRC=JaVaScRiPt:alert(1)>',
  '[click](javascript:alert(1))',
  '[click](JaVaScRiPt:alert(1))',
  '[click](&#106;avascript:alert(1))',
  '[click](<javascript:alert(1)>)',
  '[ref][1]\n\n[1]: javascript:alert(1)',
  '<javascript:alert(1)>',
  '![img](javascript:alert(1))',
  '![img](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)',
  '<a href="jav&#x09;ascript:alert(1)">tab</a>',
  '<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;:alert(1)">hex</a>',
  '<a href=" javascript:alert(1)">space</a>',
  '<a href="vbscript:msgbox(1)">vb</a>',
  '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>',
  '<a href="https://ok.example" onclick="steal()">ok</a>',
  '<iframe src="https://evil.example"></iframe>',
  '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
  '<object data="javascript:alert(1)"></object><embed src="javascript:alert(1)">',
  '<svg onload=alert(1)><script>alert(1)</script></svg>',
  '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
  '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
  '<div><p onclick="x()">nested <b onmouseover=alert(1)>bold <i onfocus=alert(1)>deep</i></b></p></div>',
  '<form action="javascript:alert(1)"><button formaction="javascript:alert(1)">go</button></form>',
  '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
  '<base href="javascript:/">',
  '<style>body{background:url(javascript:alert(1))}</style>',
  '<p style="background:url(javascript:alert(1))">styled</p>',
  '<input onfocus=alert(1) autofocus>',
  '<input type="image" src="javascript:alert(1)">',
  '<details open ontoggle=alert(1)><summary>s</summary></details>',
  '<!--<img src=x onerror=alert(1)>-->',
  '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
  '<textarea><script>alert(1)</script></textarea>',
  '<a href="https://ok.example"><img src="https://ok.example/i.png" onload="x()"></a>',
  '<table><tr><td background="javascript:alert(1)">cell</td></tr></table>',
  '<video><source onerror="alert(1)"></video><audio src=x onerror=alert(1)>',
  '- [x] done <img src=x onerror=alert(1)>\n- [ ] todo',
  '```html\n<script>alert(1)</script>\n```',
  '`<img src=x onerror=alert(1)>`',
  '> <a href="javascript:alert(1)">quoted</a>',
  // Attribute breaking: quotes in a destination, a title, alt text or a code fence's language.
  '[x](https://ok.example/"onmouseover="alert(1))',
  '[x](https://ok.example/ "t\\" onmouseover=\\"alert(1)")',
  "[x](https://ok.example/ 't\\' onmouseover=alert(1)')",
  '![a" onerror="alert(1)](https://ok.example/i.png)',
  '![a](https://ok.example/i.png "t\\" onload=\\"alert(1)")',
  '```ts" onclick="alert(1)\ncode\n```',
  // Autolinks: angle brackets, e-mail, GFM's bare www./https:// and their trailing punctuation.
  '<https://ok.example/?a="b"onclick=alert(1)>',
  '<vbscript:msgbox(1)>',
  '<me@example.com> and www.ok.example/"onclick=alert(1) and https://ok.example/a<b',
  // Reference links and images, with hostile destinations and titles.
  '[a][r]\n\n[r]: <javascript:alert(1)> "t"',
  '[a][r]\n\n[r]: https://ok.example/ "t\\" onclick=\\"alert(1)"',
  '![i][r]\n\n[r]: data:image/svg+xml,<svg/onload=alert(1)>',
  '[a]\n\n[a]: jav&#x09;ascript:alert(1)',
  // Images and links that leave the page without a scheme, or hide one.
  '![i](//evil.example/i.png) [l](//evil.example/) [b](\\\\\\\\evil.example/)',
  '[l](java\nscript:alert(1)) [m](%6Aavascript:alert(1))',
]

const TAGS = new Set(
  (
    'h1 h2 h3 h4 h5 h6 p br hr blockquote pre code ul ol li dl dt dd a img strong em del s ' +
    'sub sup kbd mark abbr table thead tbody tr th td input details summary'
  ).split(' '),
)
const ATTRIBUTES = new Set(
  'href src title alt width height class start align type checked disabled rel'.split(' '),
)
const SAFE_SCHEMES = new Set(['http', 'https', 'mailto'])

function decodeEntities(value: string) {
  return value
    .replace(/&#x([0-9a-f]+);?/gi, (_, hex: string) =>
      String.fromCodePoint(Number.parseInt(hex, 16)),
    )
    .replace(/&#(\d+);?/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&colon;/gi, ':')
    .replace(/&tab;|&newline;/gi, '')
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
}

/** Every way the output could execute something: a tag, attribute or URL outside the policy. */
function executable(html: string): string[] {
  const problems: string[] = []
  for (const [, name = '', attrs = ''] of html.matchAll(/<\/?([a-zA-Z][\w:-]*)([^>]*)>/g)) {
    if (!TAGS.has(name.toLowerCase())) problems.push(`tag <${name}>`)
    for (const [, attr = '', , double, single, bare] of attrs.matchAll(
      /([^\s=/]+)(\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g,
    )) {
      const attrName = attr.toLowerCase()
      if (!ATTRIBUTES.has(attrName)) problems.push(`attribute ${attr} on <${name}>`)
      if (attrName === 'href' || attrName === 'src') {
        // Browsers ignore whitespace and control characters inside a scheme.
        const url = decodeEntities(double ?? single ?? bare ?? '')
          .replace(/[\p{White_Space}\p{Cc}]/gu, '')
          .toLowerCase()
        const scheme = /^([a-z][a-z0-9+.-]*):/.exec(url)?.[1]
        if (scheme !== undefined && !SAFE_SCHEMES.has(scheme)) problems.push(`${attr}=${url}`)
        if (url.startsWith('//')) problems.push(`protocol-relative ${attr}=${url}`)
      }
    }
  }
  return problems
}

t.test('the checker itself catches executable HTML', async (t) => {
  t.same(executable('<p>fine <a href="https://x.example">x</a></p>'), [])
  t.ok(executable('<script>alert(1)</script>').length > 0)
  t.ok(executable('<img src=x onerror=alert(1)>').length > 0)
  t.ok(executable('<a href="jav&#x09;ascript:alert(1)">x</a>').length > 0)
  t.ok(executable("<a href='JAVASCRIPT:x'>x</a>").length > 0)
})

t.test('hostile markdown renders with nothing executable', async (t) => {
  for (const markdown of HOSTILE) {
    const html = render({ markdown })
    t.same(executable(html), [], `${JSON.stringify(markdown)} -> ${JSON.stringify(html)}`)
    t.notMatch(html, /<script/i)
  }
  // All of it at once too: the pieces nested in each other.
  t.same(executable(render({ markdown: HOSTILE.join('\n\n') })), [])
  t.same(executable(render({ markdown: HOSTILE.join('') })), [])
})

t.test('the same corpus is safe through the worker pool (compiled task)', async (t) => {
  const app = await buildWorkerTestApp(t)
  for (const markdown of HOSTILE) {
    const html = await app.workers.run('notes.render', { markdown })
    t.same(executable(html), [], JSON.stringify(markdown))
    t.equal(html, render({ markdown }), 'same as in-process')
  }
})

t.test('ordinary markdown keeps its meaning', async (t) => {
  const html = render({
    markdown: [
      '# Title',
      'Some *emphasis*, **strong**, ~~gone~~ and `code`.',
      '[a link](https://example.com/a?b=1&c=2 "title") and <mailto:me@example.com>',
      '![alt](https://example.com/i.png)',
      '```ts\nconst x = 1 < 2\n```',
      '| a | b |\n|:--|--:|\n| 1 | 2 |',
      '- [x] done\n- [ ] todo',
      '[relative](/api/notes "same site") [anchor](#top) ![rel](img/i.png)',
      'www.example.com and <https://example.com/x>',
    ].join('\n\n'),
  })
  t.match(html, '<h1>Title</h1>')
  t.match(html, '<em>emphasis</em>, <strong>strong</strong>, <del>gone</del> and <code>code</code>')
  t.match(
    html,
    '<a href="https://example.com/a?b=1&amp;c=2" title="title" rel="nofollow noopener noreferrer">a link</a>',
  )
  t.match(html, '<a href="mailto:me@example.com" rel="nofollow noopener noreferrer">')
  t.match(html, '<img src="https://example.com/i.png" alt="alt">')
  t.match(html, '<pre><code class="language-ts">const x = 1 &lt; 2')
  t.match(html, '<th align="left">a</th>')
  t.match(html, '<li><input checked="" disabled="" type="checkbox"> done</li>')
  t.match(html, '<li><input disabled="" type="checkbox"> todo</li>')
  t.match(html, '<a href="/api/notes" title="same site" rel="nofollow noopener noreferrer">')
  t.match(html, '<a href="#top" rel="nofollow noopener noreferrer">anchor</a>')
  t.match(html, '<img src="img/i.png" alt="rel">')
  t.match(html, '<a href="http://www.example.com" rel="nofollow noopener noreferrer">')
  t.match(html, '<a href="https://example.com/x" rel="nofollow noopener noreferrer">')
  t.same(executable(html), [])
})

/** Exact output: raw HTML shows as text, a refused URL leaves its text, quotes stay inside. */
const EXACT: Array<[what: string, markdown: string, html: string]> = [
  [
    'inline raw HTML is text',
    'Hello <b onclick="x()">bold</b> & <br>',
    '<p>Hello &lt;b onclick=&quot;x()&quot;&gt;bold&lt;/b&gt; &amp; &lt;br&gt;</p>\n',
  ],
  [
    'a script block is text',
    '<script>alert(1)</script>',
    '<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n',
  ],
  [
    'a multi-line HTML block is text',
    '<details>\n<summary>More</summary>\n</details>',
    '<p>&lt;details&gt;\n&lt;summary&gt;More&lt;/summary&gt;\n&lt;/details&gt;</p>\n',
  ],
  [
    'a refused link keeps its text',
    '[click *me*](javascript:alert(1))',
    '<p>click <em>me</em></p>\n',
  ],
  [
    'a refused image keeps its alt text',
    '![a <cat>](data:image/png;base64,AA)',
    '<p>a &lt;cat&gt;</p>\n',
  ],
  ['a refused autolink is text', '<javascript:alert(1)>', '<p>javascript:alert(1)</p>\n'],
  [
    'quotes cannot leave a title',
    '[x](https://ok.example/ "a\\" onclick=\\"b")',
    '<p><a href="https://ok.example/" title="a&quot; onclick=&quot;b" rel="nofollow noopener noreferrer">x</a></p>\n',
  ],
  [
    'quotes cannot leave alt text',
    '![a" onerror="b](https://ok.example/i.png)',
    '<p><img src="https://ok.example/i.png" alt="a&quot; onerror=&quot;b"></p>\n',
  ],
]

t.test('raw HTML is text, a refused URL keeps its text, quotes stay in attributes', async (t) => {
  for (const [what, markdown, html] of EXACT) t.equal(render({ markdown }), html, what)
})
