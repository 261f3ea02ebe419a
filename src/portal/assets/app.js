// Lore portal: as-you-type search (debounced; a newer request aborts the older one), URL
// kept in step with the query and filters (back/forward work), keyboard navigation.
// Results come from the server as HTML it escaped and sanitised; nothing here builds
// markup from data.
(() => {
  "use strict";
  const input = document.getElementById("q");
  const results = document.getElementById("results");
  const DEBOUNCE_MS = 180;
  let timer = 0;
  let inflight = null;

  const hits = () => Array.from(document.querySelectorAll("#results .hit-link"));

  function params(q, base) {
    const p = new URLSearchParams(base || location.search);
    p.delete("fragment");
    if (q !== undefined) p.set("q", q);
    return p;
  }

  async function load(p, how) {
    if (!results) return;
    if (inflight) inflight.abort();
    const ctl = new AbortController();
    inflight = ctl;
    const url = "/search?" + p.toString();
    if (how === "push") history.pushState(null, "", url);
    else if (how === "replace") history.replaceState(null, "", url);
    const fp = new URLSearchParams(p);
    fp.set("fragment", "1");
    try {
      results.setAttribute("aria-busy", "true");
      const res = await fetch("/search?" + fp.toString(), { signal: ctl.signal, headers: { accept: "text/html" } });
      const text = await res.text();
      if (ctl.signal.aborted) return;
      results.innerHTML = text;
      document.title = (p.get("q") ? p.get("q") + " – search" : "Search") + " · Lore";
    } catch (e) {
      if (e.name !== "AbortError") results.textContent = "Search failed: " + e.message;
    } finally {
      if (inflight === ctl) {
        inflight = null;
        results.removeAttribute("aria-busy");
      }
    }
  }

  if (input && results) {
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => load(params(input.value), "replace"), DEBOUNCE_MS);
    });
    const form = document.getElementById("search");
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      clearTimeout(timer);
      load(params(input.value), "push");
    });
    // Filters: same page, new URL entry.
    results.addEventListener("click", (ev) => {
      const a = ev.target.closest("a.filter");
      if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
      ev.preventDefault();
      const p = new URL(a.href).searchParams;
      for (const k of ["kind", "service", "team"]) {
        const hidden = form.querySelector(`input[type=hidden][name=${k}]`);
        if (hidden) hidden.remove();
      }
      load(p, "push");
    });
    window.addEventListener("popstate", () => {
      const p = new URLSearchParams(location.search);
      input.value = p.get("q") || "";
      load(p, null);
    });
    if (!input.value) input.focus();
  }

  document.addEventListener("keydown", (ev) => {
    const t = ev.target;
    const typing = t instanceof HTMLElement && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
    if (ev.key === "/" && !typing && input) {
      ev.preventDefault();
      input.focus();
      input.select();
      return;
    }
    if (ev.key !== "ArrowDown" && ev.key !== "ArrowUp") return;
    const list = hits();
    if (!list.length || (typing && t !== input)) return;
    const at = list.indexOf(document.activeElement);
    let next;
    if (ev.key === "ArrowDown") next = at < 0 ? 0 : Math.min(at + 1, list.length - 1);
    else if (at <= 0) { if (input) input.focus(); list.forEach((a) => a.closest(".hit").classList.remove("selected")); ev.preventDefault(); return; }
    else next = at - 1;
    ev.preventDefault();
    list.forEach((a) => a.closest(".hit").classList.remove("selected"));
    list[next].closest(".hit").classList.add("selected");
    list[next].focus();
  });
})();
