// Update pages: a "print" link (the page prints as a clean A4 sheet with a QR code).
document.querySelectorAll("[data-print]").forEach((link) => {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    window.print();
  });
});
