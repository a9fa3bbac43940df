// An edition that is sending, or a contact import being saved: fetch its page again
// every few seconds and copy the new figures into the progress bar, the status text (a
// polite live region) and the status word, until nothing is waiting. Without JavaScript,
// reloading the page does the same. Pages mark the parts with data-progress,
// data-progress-text and data-progress-status (the edition page has its own names).
const section = document.querySelector("[data-refresh-seconds]");

function copy(from, selector, update) {
  const source = from.querySelector(selector);
  const target = document.querySelector(selector);
  if (source && target) {
    update(source, target);
  }
}

async function refresh() {
  const response = await fetch(window.location.href, { credentials: "same-origin" });
  if (!response.ok) {
    return false;
  }
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  copy(page, "[data-testid=sending] progress, [data-progress] progress", (source, target) => {
    target.max = source.max;
    target.value = source.value;
    target.textContent = source.textContent;
  });
  for (const selector of ["#sending-progress", "[data-testid=edition-status]",
    "[data-progress-text]", "[data-progress-status]"]) {
    copy(page, selector, (source, target) => {
      if (target.textContent !== source.textContent) {
        target.textContent = source.textContent;
      }
    });
  }
  return Boolean(page.querySelector("[data-refresh-seconds]"));
}

if (section) {
  const seconds = Number(section.dataset.refreshSeconds) || 5;
  const tick = async () => {
    let again = true;
    try {
      again = await refresh();
    } catch {
      again = true; // a network blip: try again next time
    }
    if (again) {
      window.setTimeout(tick, seconds * 1000);
    } else if (section.hasAttribute("data-reload-when-done")) {
      window.location.reload(); // the finished page has more to show (a report)
    } else {
      section.removeAttribute("data-refresh-seconds");
    }
  };
  window.setTimeout(tick, seconds * 1000);
}
