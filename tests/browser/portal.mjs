// The portal in a real browser (Debian's headless Chromium, driven by playwright-core):
// search as a user types, open the first result, follow the service link, check the
// service page; axe-core on each page; a document carrying script must not run it.
//
//   node portal.mjs BASE_URL ARTIFACTS_DIR EVIL_WORD
//
// Prints one JSON report on stdout; tests/it/portal.rs judges it. Screenshots of each
// step go to ARTIFACTS_DIR.
import { readFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const [base, out, evilWord] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
const QUERY = "the card processor is slow to answer";

const browser = await chromium.launch({
  executablePath: process.env.LORE_CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
const report = { steps: {}, console: [], axe: {}, screenshots: [] };
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on("console", (m) => { if (m.type() === "error") report.console.push(m.text()); });
  page.on("pageerror", (e) => report.console.push(String(e)));
  const shot = async (name) => {
    const path = join(out, name);
    await page.screenshot({ path, fullPage: true });
    report.screenshots.push(path);
  };
  const axe = async (name) => {
    // Evaluated through the DevTools protocol, which the page's CSP does not govern.
    await page.evaluate(axeSource);
    const res = await page.evaluate(() => axe.run(document, { resultTypes: ["violations"] }));
    report.axe[name] = res.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help,
      targets: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
  };

  // 1. Search, typed as a person types.
  await page.goto(base + "/");
  await page.locator("#q").pressSequentially(QUERY, { delay: 15 });
  await page.waitForFunction((q) => new URLSearchParams(location.search).get("q") === q
      && document.querySelector("#results .hit-link") && !document.querySelector("#results[aria-busy]"), QUERY);
  await page.waitForTimeout(300);
  report.steps.search = {
    url: page.url(),
    first: await page.locator("#results .hit-link").first().innerText(),
    hits: await page.locator("#results .hit").count(),
    marks: await page.locator("#results mark").count(),
    literal_stars: (await page.locator("#results").innerText()).includes("**"),
    facets: await page.locator(".facets .filter").count(),
  };
  await shot("01-search.png");
  await axe("search");

  // Keyboard: arrow down from the box focuses the first hit, Enter opens it.
  await page.locator("#q").focus();
  await page.keyboard.press("ArrowDown");
  report.steps.search.focused = await page.evaluate(() => document.activeElement?.className);
  await Promise.all([page.waitForURL(/\/docs\//), page.keyboard.press("Enter")]);

  // 2. The document.
  report.steps.document = {
    url: page.url(),
    title: await page.locator("h1").innerText(),
    sections: await page.locator("article.prose section h2").allInnerTexts(),
    toc: await page.locator(".toc li").count(),
    code: await page.locator("article pre code").count(),
    stale: await page.locator(".stale").count(),
  };
  await shot("02-document.png");
  await axe("document");

  // 3. The payment service page, from the document's link.
  await Promise.all([page.waitForURL(/\/services\/payment/),
    page.locator('.side a[href="/services/payment"]').first().click()]);
  report.steps.service = {
    url: page.url(),
    title: await page.locator("h1").innerText(),
    team: await page.locator(".team").allInnerTexts(),
    svg: await page.locator("svg.deps").count(),
    nodes: await page.locator("svg.deps .node text").allTextContents(),
    changes: await page.locator("ol.changes li").allInnerTexts(),
  };
  await shot("03-service.png");
  await axe("service");

  // At 400 px the page reflows: nothing wider than the window but the picture's own scroller.
  await page.setViewportSize({ width: 400, height: 900 });
  report.steps.narrow = { overflow: await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth) };
  await shot("04-service-400px.png");

  // Back and forward through history return to the search with its query.
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goBack();
  await page.goBack();
  await page.waitForURL(/\/search|\/\?/);
  report.steps.back = { url: page.url(), q: await page.locator("#q").inputValue(),
    first: await page.locator("#results .hit-link").first().innerText() };
  await page.goForward();
  report.steps.forward = { url: page.url() };
  await context.close();

  // 4. A document carrying <script> and onerror= runs neither.
  const evil = await browser.newContext();
  const ep = await evil.newPage();
  const dialogs = [];
  ep.on("dialog", async (d) => { dialogs.push(d.message()); await d.dismiss(); });
  await ep.goto(base + "/search?q=" + encodeURIComponent(evilWord));
  await Promise.all([ep.waitForURL(/\/docs\//), ep.locator("#results .hit-link").first().click()]);
  await ep.waitForTimeout(500);
  report.steps.evil = {
    url: ep.url(),
    pwned: await ep.evaluate(() => Boolean(window.pwned) || document.title.includes("pwned")),
    dialogs,
    scripts: await ep.locator("article script").count(),
    handlers: await ep.evaluate(() => Array.from(document.querySelectorAll("article *"))
      .filter((e) => Array.from(e.attributes).some((a) => a.name.startsWith("on"))).length),
    stale: await ep.locator(".stale").innerText().catch(() => ""),
  };
  await ep.screenshot({ path: join(out, "05-evil-document.png"), fullPage: true });
  report.screenshots.push(join(out, "05-evil-document.png"));
  await evil.close();
} catch (e) {
  report.error = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
