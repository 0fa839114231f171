"""The flow inspector page: every recorded flow of this browser, as numbered steps."""

from fastapi import APIRouter, Request
from starlette.responses import Response

from services.demo_client.deps import BrowserDep
from services.demo_client.explanations.steps import FLOW_TITLES
from services.demo_client.pages import render
from services.demo_client.routes import page

router = APIRouter()


@router.get("/inspector", summary="The flow inspector", **page("Every step of each flow"))
def inspector(browser: BrowserDep, request: Request) -> Response:
    flows = [browser.flows[key] for key in FLOW_TITLES if key in browser.flows]
    return render(request, "inspector.html", {"flows": flows}, browser=browser)
