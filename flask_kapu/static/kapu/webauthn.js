/* flask_kapu: passkeys (WebAuthn) on the security and step-up pages. No dependencies.
 *
 * A button carries what it needs in data attributes:
 *   data-kapu-webauthn="register" | "authenticate"
 *   data-options-url, data-verify-url, data-csrf, data-next
 *   data-label-input (register: id of a text input with the passkey's name)
 *   data-password-input (register: id of the current-password input, sent with both
 *     requests; a first passkey needs it unless the login is a few minutes old)
 *   data-remember-input (authenticate: id of the "remember this browser" checkbox, sent
 *     as remember_browser when a login's second factor is due)
 *   data-messages (JSON: cancelled, unsupported, failed, saved)
 */
(function () {
  "use strict";

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) { base64 += "="; }
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) { binary += String.fromCharCode(bytes[i]); }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withBytes(list) {
    return (list || []).map(function (item) {
      return Object.assign({}, item, { id: toBytes(item.id) });
    });
  }

  function creationOptions(json) {
    return Object.assign({}, json, {
      challenge: toBytes(json.challenge),
      user: Object.assign({}, json.user, { id: toBytes(json.user.id) }),
      excludeCredentials: withBytes(json.excludeCredentials)
    });
  }

  function requestOptions(json) {
    return Object.assign({}, json, {
      challenge: toBytes(json.challenge),
      allowCredentials: withBytes(json.allowCredentials)
    });
  }

  function credentialJSON(credential) {
    var response = credential.response;
    var out = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: { clientDataJSON: toText(response.clientDataJSON) }
    };
    if (response.attestationObject) {
      out.response.attestationObject = toText(response.attestationObject);
      out.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      out.response.authenticatorData = toText(response.authenticatorData);
      out.response.signature = toText(response.signature);
      out.response.userHandle = response.userHandle ? toText(response.userHandle) : null;
    }
    return out;
  }

  function post(url, csrf, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) { var error = new Error(data.detail || response.statusText); error.problem = data; throw error; }
        return data;
      });
    });
  }

  function say(button, text) {
    var status = document.getElementById(button.getAttribute("aria-describedby") || "") || button.parentNode;
    status.textContent = text;
  }

  function showCodes(button, codes, messages) {
    var list = document.createElement("ol");
    list.className = "kapu-codes";
    list.id = "recovery-codes";
    codes.forEach(function (code) {
      var item = document.createElement("li");
      var text = document.createElement("code");
      text.textContent = code;
      item.appendChild(text);
      list.appendChild(item);
    });
    var box = button.closest("section") || button.parentNode;
    var note = document.createElement("p");
    note.className = "kapu-note";
    note.setAttribute("role", "status");
    note.textContent = messages.saved || "";
    box.appendChild(note);
    box.appendChild(list);
  }

  function run(button) {
    var kind = button.getAttribute("data-kapu-webauthn");
    var csrf = button.getAttribute("data-csrf");
    var next = button.getAttribute("data-next") || window.location.pathname;
    var messages = JSON.parse(button.getAttribute("data-messages") || "{}");
    if (!window.PublicKeyCredential || !navigator.credentials) {
      say(button, messages.unsupported || "This browser cannot use passkeys.");
      return;
    }
    var passwordInput = document.getElementById(button.getAttribute("data-password-input") || "");
    var password = passwordInput && passwordInput.value ? passwordInput.value : null;
    button.disabled = true;
    post(button.getAttribute("data-options-url"), csrf, kind === "register" && password ? { password: password } : {}).then(function (options) {
      if (kind === "register") {
        return navigator.credentials.create({ publicKey: creationOptions(options) }).then(function (credential) {
          var input = document.getElementById(button.getAttribute("data-label-input") || "");
          return post(button.getAttribute("data-verify-url"), csrf, {
            credential: credentialJSON(credential),
            label: input ? input.value : null,
            password: password
          });
        });
      }
      return navigator.credentials.get({ publicKey: requestOptions(options) }).then(function (credential) {
        var remember = document.getElementById(button.getAttribute("data-remember-input") || "");
        return post(button.getAttribute("data-verify-url"), csrf, {
          credential: credentialJSON(credential),
          remember_browser: Boolean(remember && remember.checked)
        });
      });
    }).then(function (result) {
      if (passwordInput) { passwordInput.value = ""; }
      if (result && result.recovery_codes && result.recovery_codes.length) {
        showCodes(button, result.recovery_codes, messages);
        var onward = document.createElement("a");
        onward.href = next;
        onward.textContent = messages["continue"] || "OK";
        button.parentNode.appendChild(onward);
        return;
      }
      window.location.assign(next);
    }).catch(function (error) {
      button.disabled = false;
      if (error && (error.name === "NotAllowedError" || error.name === "AbortError")) {
        say(button, messages.cancelled || "Cancelled.");
      } else if (error && error.problem && error.problem.errors && error.problem.errors.password) {
        say(button, error.problem.errors.password.join(" "));
        if (passwordInput) { passwordInput.focus(); }
      } else if (error && error.problem && error.problem.detail) {
        say(button, error.problem.detail);
      } else {
        say(button, messages.failed || "The passkey did not work.");
      }
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-kapu-webauthn]") : null;
    if (button) { event.preventDefault(); run(button); }
  });
})();
