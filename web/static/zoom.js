// The Zoom simulator's page (local only): an account's phone numbers, the
// Assigned tab, a number's properties and Unbind, which calls the
// simulator's unbind endpoint as the customer's admin in Zoom's portal would.
import { request, numberSegment, h, fill, setupTabs, notice, clock } from './lib.js';

const REFRESH_MS = 3000;
// Zoom's owner collections by assignee type (the unbind path).
const OWNER_PATHS = {
  user: 'users',
  commonArea: 'common_areas',
  callQueue: 'call_queues',
  autoReceptionist: 'auto_receptionists',
  sharedLineGroup: 'shared_line_groups',
};
const TYPE_LABELS = {
  user: 'User',
  commonArea: 'Common area',
  callQueue: 'Call queue',
  autoReceptionist: 'Auto receptionist',
  sharedLineGroup: 'Shared line group',
  emergencyNumberPool: 'Emergency number pool',
  companyLocation: 'Company location',
  meetingService: 'Meeting service',
};

const accountStore = sessionStorage;
const $ = (id) => document.getElementById(id);

let all = [];
let account = accountStore.getItem('nr.zoom.account') || 'zoom-acme';
let tabs = null;
let timer = null;
let current = null; // the number shown in the properties dialog

function typeLabel(t) {
  return TYPE_LABELS[t] || t;
}

async function load() {
  clearTimeout(timer);
  try {
    const data = await request('/zoom-sim/admin/numbers');
    all = data.numbers || [];
    notice($('app-error'), 'error', '');
    fill($('accounts'), [...new Set(all.map((n) => n.account_id))].sort().map((a) => h('option', { value: a })));
    render();
    if (current && $('props').open) {
      const fresh = all.find((n) => n.number === current.number);
      if (fresh && JSON.stringify(fresh) !== JSON.stringify(current)) {
        current = fresh;
        renderProps();
      }
    }
  } catch (err) {
    notice($('app-error'), 'error', `Could not load the numbers: ${err.message}`);
  } finally {
    timer = setTimeout(load, REFRESH_MS);
  }
}

function render() {
  const mine = all.filter((n) => n.account_id === account);
  const assigned = mine.filter((n) => n.assignee);
  const unassigned = mine.filter((n) => !n.assignee);
  $('count-all').textContent = String(mine.length);
  $('count-assigned').textContent = String(assigned.length);
  $('count-unassigned').textContent = String(unassigned.length);
  const tab = tabs.current();
  const shown = tab === 'tab-assigned' ? assigned : tab === 'tab-unassigned' ? unassigned : mine;
  $('panel-numbers').setAttribute('aria-labelledby', tab);
  $('summary').textContent = `Account ${account} · refreshed ${clock()}`;
  $('empty').hidden = shown.length > 0;
  $('empty').textContent = mine.length === 0 ? `Account ${account} has no phone numbers.`
    : tab === 'tab-assigned' ? 'No number is assigned.' : 'No number here.';
  $('table').hidden = shown.length === 0;
  fill($('body'), shown.map((n) => h('tr', { dataset: { number: n.number } },
    h('td', { dataset: { label: 'Number' } }, h('button', {
      type: 'button', class: 'linklike number', 'aria-haspopup': 'dialog', title: 'Open its properties',
      onclick: () => openProps(n),
    }, n.number)),
    h('td', { dataset: { label: 'Status' } }, n.assignee
      ? h('span', { class: 'badge assigned' }, 'Assigned') : h('span', { class: 'badge free' }, 'Unassigned')),
    h('td', { dataset: { label: 'Assigned to' } }, n.assignee ? n.assignee.name || n.assignee.id : h('span', { class: 'muted' }, '—')),
    h('td', { dataset: { label: 'Type' } }, n.assignee ? typeLabel(n.assignee.type) : h('span', { class: 'muted' }, '—')),
    h('td', { dataset: { label: 'Extension' } }, n.assignee?.extension_number || h('span', { class: 'muted' }, '—')))));
}

function openProps(n) {
  current = n;
  notice($('props-result'), '', '');
  renderProps();
  if (!$('props').open) $('props').showModal();
}

function renderProps() {
  const n = current;
  const a = n.assignee;
  $('props-title').textContent = `Number ${n.number}`;
  fill($('props-list'),
    h('dt', {}, 'Number'), h('dd', { class: 'number' }, n.number),
    h('dt', {}, 'Number id'), h('dd', { class: 'number' }, n.id),
    h('dt', {}, 'Account'), h('dd', {}, n.account_id),
    n.carrier_code ? [h('dt', {}, 'Carrier code'), h('dd', {}, String(n.carrier_code))] : null,
    h('dt', {}, 'Status'), h('dd', {}, a ? h('span', { class: 'badge assigned' }, 'Assigned') : h('span', { class: 'badge free' }, 'Unassigned')),
    a ? [
      h('dt', {}, 'Assigned to'), h('dd', {}, a.name || '—'),
      h('dt', {}, 'Assignee type'), h('dd', {}, `${typeLabel(a.type)} (${a.type})`),
      h('dt', {}, 'Assignee id'), h('dd', { class: 'number' }, a.id),
      h('dt', {}, 'Extension'), h('dd', {}, a.extension_number || '—'),
    ] : null);
  const canUnbind = Boolean(a && OWNER_PATHS[a.type]);
  $('unbind-btn').hidden = !a;
  $('unbind-btn').parentElement.hidden = !a;
  $('unbind-btn').disabled = !canUnbind;
  $('unbind-hint').textContent = a && !canUnbind ? `A number assigned to a ${typeLabel(a.type).toLowerCase()} cannot be unbound here.`
    : a ? `Unassigns it from ${a.name || a.id}.` : '';
}

async function unbind() {
  const n = current;
  const a = n?.assignee;
  if (!a || !OWNER_PATHS[a.type]) return;
  $('unbind-btn').disabled = true;
  notice($('props-result'), 'info', 'Unbinding…');
  try {
    await request(`/zoom-sim/v2/phone/${OWNER_PATHS[a.type]}/${encodeURIComponent(a.id)}/phone_numbers/${numberSegment(n.number)}`,
      { method: 'DELETE' });
    current = { ...n, assignee: undefined };
    renderProps();
    notice($('props-result'), 'ok', 'The number is no longer assigned.',
      h('span', { class: 'sub' }, ` ${n.number} was unassigned from ${a.name || a.id} (${a.type}).`));
    $('props-result').focus();
    load();
  } catch (err) {
    $('unbind-btn').disabled = false;
    notice($('props-result'), 'error', `Could not unbind: ${err.message}`);
  }
}

function chooseAccount(event) {
  event.preventDefault();
  const a = $('account').value.trim();
  if (!a) return;
  account = a;
  accountStore.setItem('nr.zoom.account', a);
  render();
}

function init() {
  $('account').value = account;
  tabs = setupTabs($('tabs'), () => {
    // One panel for all tabs: keep it shown, re-filter.
    $('panel-numbers').hidden = false;
    if (all) render();
  });
  $('account-form').addEventListener('submit', chooseAccount);
  $('account').addEventListener('change', chooseAccount);
  $('unbind-btn').addEventListener('click', unbind);
  $('props-close').addEventListener('click', () => $('props').close());
  $('props').addEventListener('close', () => {
    current = null;
  });
  load();
}

init();
