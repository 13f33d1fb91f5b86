"""The controls of an explorer in the page, moved as a student moves them.

A slider is moved with the keyboard on its handle (Page Up: several steps; Page Down when it
is at its maximum), a choice by picking another option, a text box by typing a changed
value and pressing Enter, a Play control by pressing play and, once the picture has moved,
pressing it again to pause. What the explorer
shows is its pictures (a digest of the bytes each <img> displays) and the text of its HTML
outputs; a move counts only if that changes.
"""
import re
import time

CHANGE_SECONDS = 60

# ipywidgets 8 views: the CSS class of each control's view, and the element one acts on.
SLIDER = ".widget-slider .noUi-handle"
PLAY = ".widget-play"
DROPDOWN = ".widget-dropdown select"
TOGGLES = ".widget-toggle-buttons"
TEXT = ".widget-text input, .widget-textarea textarea"
CHECKBOX = ".widget-checkbox input"
OUTPUT_TEXT = ".widget-html, .widget-htmlmath"


def controls(explorer):
    """(kind, locator) of every control in the explorer, values first and choices last.

    Choices come last because they may show other controls (a mode switch hides one panel
    and shows another); the test moves what appears then.
    """
    found = []
    for kind, selector in (("slider", SLIDER), ("play", PLAY), ("text", TEXT), ("checkbox", CHECKBOX),
                           ("dropdown", DROPDOWN), ("toggles", TOGGLES)):
        items = explorer.locator(selector)
        found += [(kind, items.nth(i)) for i in range(items.count())]
    return found


def label(kind, control):
    """The control's description, as the student reads it."""
    box = control.locator("xpath=ancestor-or-self::*[contains(@class, 'widget-inline-hbox')"
                          " or contains(@class, 'widget-toggle-buttons')][1]")
    text = box.locator(".widget-label").first.inner_text() if box.locator(".widget-label").count() else ""
    return f"{kind} '{text.strip()}'"


def view(explorer):
    """What the explorer shows: a digest of each visible picture's bytes as the page holds them
    (the blob its <img> displays), and the text of each HTML output."""
    pictures = explorer.locator("img.widget-image").evaluate_all(
        """async images => Promise.all(images.filter(img => img.offsetParent !== null).map(async img => {
            const bytes = await (await fetch(img.src)).arrayBuffer();
            const digest = await crypto.subtle.digest('SHA-256', bytes);
            return Array.from(new Uint8Array(digest), b => b.toString(16).padStart(2, '0')).join('');
        }))""")
    return tuple(pictures) + tuple(explorer.locator(OUTPUT_TEXT).all_inner_texts())


def wait_for_change(explorer, before, what):
    deadline = time.monotonic() + CHANGE_SECONDS
    while time.monotonic() < deadline:
        now = view(explorer)
        if now != before:
            return now
        time.sleep(0.3)
    raise AssertionError(f"{what}: what the explorer shows did not change within {CHANGE_SECONDS} s")


def wait_until_steady(explorer, settle=1.5):
    """Wait until what the explorer shows stays the same for ``settle`` seconds."""
    last, since = view(explorer), time.monotonic()
    deadline = since + CHANGE_SECONDS
    while time.monotonic() - since < settle:
        if time.monotonic() > deadline:
            raise AssertionError(f"the explorer keeps changing for {CHANGE_SECONDS} s")
        time.sleep(0.3)
        now = view(explorer)
        if now != last:
            last, since = now, time.monotonic()
    return last


def another_text(text):
    """The text with its first item appended (a list of numbers stays a valid list)."""
    if re.fullmatch(r"-?\d+", text.strip()):
        return str(int(text) + 1)
    sep = ", " if "," in text else " "
    items = [t for t in re.split(r"[,\s]+", text) if t]
    return text.rstrip().rstrip(",") + sep + items[0]


def move(kind, control):
    """Move the control once, as a student would; False if it cannot move (a single choice)."""
    page = control.page
    if kind == "slider":
        low, high, now = (float(control.get_attribute(a)) for a in ("aria-valuemin", "aria-valuemax", "aria-valuenow"))
        if low == high:
            return False
        control.focus()
        page.keyboard.press("PageUp" if now < high else "PageDown")
        return True
    if kind == "play":
        buttons = control.locator("button")
        buttons.nth(0).click()  # play
        return "play"
    if kind == "text":
        control.fill(another_text(control.input_value()))
        control.press("Enter")
        return True
    if kind == "checkbox":
        control.click()
        return True
    if kind == "dropdown":
        options = control.locator("option").all_inner_texts()
        if len(options) < 2:
            return False
        current = control.evaluate("select => select.selectedIndex")
        control.select_option(index=(current + 1) % len(options))
        return True
    if kind == "toggles":
        others = control.locator("button:not(.mod-active)")
        if not others.count():
            return False
        others.first.click()
        return True
    raise AssertionError(f"no way to move a {kind}")


def pause(control):
    """Press the Play control's first button again: while playing, it pauses."""
    control.locator("button").nth(0).click()
