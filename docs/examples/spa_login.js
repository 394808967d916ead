// A single-page app's login and Ügyfélkapu+ step-up over flask_kapu's JSON API.
// `askCode(method, sessionHint)` is your UI: it resolves to the code the user typed.

const KAPU_API = "/kapu/api";
let csrfToken = null;

// One call to the API: JSON in and out, the CSRF header on every POST, problems thrown.
async function kapu(method, path, body) {
  if (method !== "GET" && csrfToken === null) {
    await kapu("GET", "/session"); // the session answer carries the CSRF token
  }
  const response = await fetch(KAPU_API + path, {
    method,
    credentials: "same-origin",
    headers: {
      Accept: "application/json",
      "Content-Type": "application/json",
      "X-CSRFToken": csrfToken ?? "",
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? null : await response.json();
  if (data && data.csrf_token) {
    csrfToken = data.csrf_token; // a login issues a new session, and a new token
  }
  if (!response.ok) {
    throw Object.assign(new Error(data.detail), { problem: data });
  }
  return data;
}

// Prove a second factor with a typed code: the authenticator app if the account
// has one, else a code by e-mail (the page shows the 3-digit session hint the mail repeats).
async function proveSecondFactor(methods, askCode) {
  if (methods.includes("totp")) {
    return kapu("POST", "/plusz/totp/verify", { code: await askCode("totp") });
  }
  if (methods.includes("email")) {
    const sent = await kapu("POST", "/plusz/email");
    const code = await askCode("email", sent.session_hint);
    return kapu("POST", "/plusz/email/verify", { code });
  }
  throw new Error(`no typed-code method among ${methods}: use a passkey or a recovery code`);
}

// Log in. An account with an authenticator app (or a passkey) proves it at once.
export async function logIn(username, password, askCode) {
  const session = await kapu("POST", "/login", { username, password });
  if (session.pending === "second_factor") {
    return proveSecondFactor(session.methods, askCode);
  }
  return session;
}

// GET one of your own JSON views; step up once if it asks for Ügyfélkapu+.
export async function getProtected(url, askCode) {
  const options = { credentials: "same-origin", headers: { Accept: "application/json" } };
  let response = await fetch(url, options);
  if (response.status === 401) {
    const problem = await response.json();
    if (problem.code !== "plusz_required") {
      throw Object.assign(new Error(problem.detail), { problem }); // login_required
    }
    await proveSecondFactor(problem.methods, askCode);
    response = await fetch(url, options);
  }
  if (!response.ok) {
    const problem = await response.json(); // e.g. 403 enrollment_required
    throw Object.assign(new Error(problem.detail), { problem });
  }
  return response.json();
}

export async function logOut() {
  await kapu("POST", "/logout");
  csrfToken = null; // the session, and its token, are gone
}
