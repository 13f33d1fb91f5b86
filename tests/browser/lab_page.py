"""Driving a notebook in JupyterLab as a person would: open it, run it, read what it shows.

The server runs with ``expose_app_in_browser``, so ``window.jupyterapp`` gives the same
commands as the menus (File > Open is ``docmanager:open``, Run > Run All Cells is
``notebook:run-all-cells``) and the notebook's model, from which the cells' outputs are read
without guessing at the page's layout.
"""
import time

RUN_SECONDS = 240

def console_errors(page):
    """The errors the browser console showed since the test began; none is exempt, as none
    has been seen from JupyterLab, ipywidgets or nbgrader on this course."""
    return list(page.errors)


def open_notebook(page, lab, relpath):
    """Open ``relpath`` (relative to the course copy) and wait until its kernel is idle."""
    page.evaluate("async path => { await window.jupyterapp.commands.execute('docmanager:open', {path}); }", relpath)
    page.wait_for_function(
        """path => {
            const w = window.jupyterapp.shell.currentWidget;
            return !!(w && w.context && w.context.path === path && w.sessionContext
                      && w.sessionContext.session && w.sessionContext.session.kernel);
        }""", arg=relpath, timeout=90_000)
    wait_until_idle(page)


def kernel_status(page):
    return page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status")


def wait_until_idle(page, timeout=90):
    deadline = time.monotonic() + timeout
    while kernel_status(page) != "idle":
        if time.monotonic() > deadline:
            raise AssertionError(f"the kernel is still {kernel_status(page)} after {timeout} s")
        time.sleep(0.2)


def run_all(page):
    """Run > Run All Cells, and wait until the last cell has run."""
    page.evaluate("async () => { await window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    deadline = time.monotonic() + RUN_SECONDS
    while page.evaluate("""() => window.jupyterapp.shell.currentWidget.content.widgets.some(
                              c => c.model.type === 'code' && c.promptNode && c.promptNode.textContent.includes('*'))"""):
        if time.monotonic() > deadline:
            raise AssertionError(f"the notebook still runs after {RUN_SECONDS} s")
        time.sleep(0.5)
    wait_until_idle(page)


def cell_problems(page):
    """Every code cell that did not run or shows an error output: (cell index, what)."""
    return page.evaluate(
        """() => {
            const problems = [];
            window.jupyterapp.shell.currentWidget.content.widgets.forEach((cell, i) => {
                if (cell.model.type !== 'code') return;
                if (cell.model.executionCount === null) problems.push([i, 'not run']);
                for (const out of cell.model.outputs.toJSON())
                    if (out.output_type === 'error') problems.push([i, out.ename + ': ' + out.evalue]);
            });
            return problems;
        }""")


def explorer_outputs(page):
    """The locators of every displayed widget that draws a picture: the explorers."""
    outputs = page.locator(".jp-Notebook .jp-OutputArea-output").filter(has=page.locator("img.widget-image"))
    return [outputs.nth(i) for i in range(outputs.count())]


def widget_errors(page):
    """Widget views that failed to render ("Error displaying widget: ...")."""
    return page.locator(".jp-Notebook .jp-OutputArea-output", has_text="Error displaying widget").all_inner_texts()

