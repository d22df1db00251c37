/**
 * Small DOM helpers. Every piece of text (file names, label names, notes) goes in through
 * `textContent`, never as markup: a label named `<img src=x onerror=...>` is shown as those
 * characters. There is no innerHTML anywhere in the viewer.
 */

type Attributes = Record<string, string | number | boolean | undefined>;

/** Creates an element with attributes (set as properties when they exist, else as attributes) and text or children. */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name === 'class') node.className = String(value);
    else if (name in node && name !== 'list') (node as unknown as Record<string, unknown>)[name] = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children)
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  return node;
}

/** The element with this id, of the expected type; throws when the page lacks it. */
export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const node = document.getElementById(id);
  if (!(node instanceof type)) throw new TypeError(`the page has no ${type.name} #${id}`);
  return node;
}

/** Replaces an element's children. */
export function replaceChildren(parent: Element, ...children: (Node | string)[]): void {
  parent.replaceChildren(...children);
}
