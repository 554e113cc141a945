// The warm-transfer summary: the controller puts the text it spoke to staff into the
// X-Frontdesk-Summary header of the INVITE (percent-encoded UTF-8: dialplan
// [frontdesk-departments] and [frontdesk-summary-header]); the phone shows it as text.

export const SUMMARY_HEADER = "X-Frontdesk-Summary";
const MAX = 1000;

/** The header's value as text a person reads: decoded, without control characters. */
export function summaryText(value) {
  if (!value) return "";
  let text;
  try {
    text = decodeURIComponent(value.replace(/\+/g, " "));
  } catch {
    text = value;
  }
  // eslint-disable-next-line no-control-regex
  text = text.replace(/[\u0000-\u001f\u007f]+/g, " ").replace(/\s+/g, " ").trim();
  return text.length > MAX ? `${text.slice(0, MAX - 1)}…` : text;
}
