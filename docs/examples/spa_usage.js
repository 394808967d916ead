// Wiring it to a page: a login form, and prompt() for the codes (use a dialog of your own).
import { getProtected, logIn } from "./spa_login.js";

async function askCode(method, sessionHint) {
  const source =
    method === "totp" ? "your authenticator app" : `the e-mail with session ID ${sessionHint}`;
  return window.prompt(`Type the 6-digit code from ${source}:`);
}

document.querySelector("#login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const result = document.querySelector("#result");
  try {
    await logIn(form.username.value, form.password.value, askCode);
    const taxReturn = await getProtected("/tax-return", askCode);
    result.textContent = `Your tax return is due on ${taxReturn.due}.`;
  } catch (error) {
    result.textContent = error.message; // the problem's detail, in the page's language
  }
});
