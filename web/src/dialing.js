// What the number field becomes in the INVITE's request URI. Staff type numbers as people
// write them; the dialplan ([frontdesk-staff]) wants an extension, 2500 (the AI
// receptionist), queue-<name>, or 9 then the number in international form without the +.

/** The dial string for what was typed, or null when it cannot be dialled. */
export function dialTarget(input) {
  const raw = String(input ?? "").trim();
  if (/^queue-[a-z0-9-]{1,40}$/i.test(raw)) return raw.toLowerCase();
  let digits = raw.replace(/[\s().\-/]/g, "");
  if (digits.startsWith("+")) digits = `9${digits.slice(1)}`;
  if (!/^[0-9*#]{1,20}$/.test(digits)) return null;
  return digits;
}

/** The SIP URI of a dial string (`#` escaped, as a URI's user part needs). */
export function dialUri(target, domain) {
  return `sip:${target.replace(/#/g, "%23")}@${domain}`;
}

/** A reason a call did not go through, in words, from the SIP status code. */
export function rejectionText(code) {
  switch (code) {
    case 403:
      return "The call was refused: this number is outside what the hotel's phones may dial.";
    case 404:
    case 484:
      return "There is no such extension or number.";
    case 408:
    case 480:
      return "Nobody answered.";
    case 486:
    case 600:
      return "The line is busy.";
    case 487:
      return "The call was cancelled.";
    case 488:
    case 606:
      return "The other phone could not agree on audio with this browser.";
    case 603:
      return "The call was declined.";
    default:
      return code >= 500
        ? `The phone system could not place the call (${code}).`
        : `The call did not go through (${code}).`;
  }
}
