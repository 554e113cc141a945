"""A payment service reached over HTTP, configured by environment (PAYMENT_PROVIDER=http).

The contract is deliberately small so that a thin shim can sit in front of any processor:
POST {PAYMENT_PROVIDER_URL} with a bearer key and JSON
  {"reference", "amount", "currency", "description", "expires_at", "idempotency_key"}
answers 200/201 with {"id": "...", "url": "https://..."}.
"""

from __future__ import annotations

import aiohttp

from app.hotel.errors import ToolError
from app.hotel.payments import LinkRequest, PaymentLink
from app.log import get_logger

log = get_logger(__name__)


class HttpPaymentProvider:
    name = "http"

    def __init__(self, http: aiohttp.ClientSession, url: str, api_key: str) -> None:
        self._http = http
        self._url = url
        self._headers = {"Authorization": f"Bearer {api_key}"}

    async def create_link(self, request: LinkRequest) -> PaymentLink:
        body = {
            "reference": request.confirmation_code,
            "amount": request.amount_cents,
            "currency": request.currency,
            "description": request.description,
            "expires_at": request.expires_at.isoformat(),
            "idempotency_key": f"reservation-{request.reservation_id}",
        }
        try:
            async with self._http.post(
                self._url,
                json=body,
                headers=self._headers,
                timeout=aiohttp.ClientTimeout(total=10),
            ) as response:
                if response.status not in (200, 201):
                    log.error("payment provider refused", status=response.status)
                    raise ToolError(
                        "I couldn't create the payment link just now. The front desk can send "
                        "it to you shortly."
                    )
                data = await response.json()
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.error("payment provider unreachable", error=str(exc))
            raise ToolError(
                "I couldn't reach our payment service just now. The front desk can send the "
                "link to you shortly."
            ) from exc
        url, ref = data.get("url"), data.get("id")
        if not isinstance(url, str) or not url.startswith("https://") or not ref:
            raise ToolError("I couldn't create the payment link just now.")
        return PaymentLink(url, self.name, str(ref), offline=False)
