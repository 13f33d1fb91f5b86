"""nbgrader in JupyterLab: the student's Validate button and the instructor's formgrader.

- A notebook of the release (course/) shows nbgrader's Validate button in its toolbar, and
  validating it as released, unanswered, reports the first failing test cell.
- A completed notebook, the solution notebook copied in place of the release one in a
  student's copy of the assignment folder, validates with nbgrader's success message.
- The Nbgrader menu opens the formgrader, which lists every assignment of solutions/.

The first assignment of the release serves as the student's notebook; validation runs the
whole notebook on the server, as it does for a student.
"""
import shutil

import pytest

from lab_page import console_errors, open_notebook

pytestmark = pytest.mark.xdist_group("browser")

VALIDATE_SECONDS = 240


def first_assignment(lab):
    names = sorted(p.name for p in (lab.root / "course").iterdir() if (p / f"{p.name}.ipynb").exists())
    assert names, "course/ holds no released notebook"
    return names[0]


def validate(page):
    """Press Validate in the notebook's toolbar; (passed, message) of the dialog it opens, then closed."""
    button = page.locator(".jp-NotebookPanel-toolbar .validate-button").filter(visible=True)
    assert button.count() == 1, "the notebook toolbar shows no Validate button (nbgrader's validate-assignment plugin)"
    button.click()
    result = page.locator(".jp-Dialog #validation-message")
    result.wait_for(timeout=VALIDATE_SECONDS * 1000)
    classes, text = result.get_attribute("class").split(), result.inner_text()
    page.locator(".jp-Dialog .jp-Dialog-button").first.click()
    assert ("validation-success" in classes) != ("validation-failed" in classes), f"validation ended in neither way: {text}"
    return "validation-success" in classes, text


def test_released_notebook_has_validate_button_and_fails_unanswered(lab, page):
    name = first_assignment(lab)
    open_notebook(page, lab, f"course/{name}/{name}.ipynb")
    passed, text = validate(page)
    assert not passed, "the unanswered release validates as if it were complete"
    assert "NotImplementedError" in text, f"the unanswered exercise should fail on its stub:\n{text[:2000]}"
    assert console_errors(page) == []


def test_completed_notebook_validates(lab, page):
    name = first_assignment(lab)
    student = lab.root / "student" / name
    shutil.copytree(lab.root / "course" / name, student)
    shutil.copy2(lab.root / "solutions" / name / f"{name}.ipynb", student / f"{name}.ipynb")
    open_notebook(page, lab, f"student/{name}/{name}.ipynb")
    passed, text = validate(page)
    assert passed, f"the completed notebook fails validation:\n{text[:2000]}"
    assert "Success! Your notebook passes all the tests." in text
    assert console_errors(page) == []


def test_instructor_opens_the_formgrader(lab, page, artifacts):
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    page.locator(".lm-Menu-item", has_text="Formgrader").first.click()
    formgrader = page.frame_locator("#formgrader iframe")
    formgrader.get_by_text("Manage Assignments").first.wait_for()
    assignments = sorted(p.name for p in (lab.root / "solutions").iterdir() if p.is_dir())
    for name in assignments:
        formgrader.locator("td", has_text=name).first.wait_for(timeout=60_000)
    page.screenshot(path=artifacts / "formgrader.png")
    assert console_errors(page) == []
