import { createChatTab } from './chat-tab.js';
import { createImagesTab } from './images-tab.js';
import { createModelsTab } from './models-tab.js';
import { createPersonalizeTab } from './personalize-tab.js';
import { createSettings } from './settings.js';
import { mountTabs } from './tabs.js';

/** Entry point of the studio page: builds the four tabs and the API key field into index.html's placeholders. */
function main(): void {
  const nav = document.getElementById('tabs');
  const panels = document.getElementById('panels');
  const settings = document.getElementById('settings');
  if (!nav || !panels || !settings) throw new Error('index.html lacks #tabs, #panels or #settings');
  settings.append(createSettings());
  const images = createImagesTab();
  const openImages = (model: string, prompt: string): void => {
    void images.use(model, prompt).then(() => showTab('images'));
  };
  const chat = createChatTab();
  const models = createModelsTab((kind, model) => {
    if (kind === 'image') openImages(model, '');
    else void chat.use(model).then(() => showTab('chat'));
  });
  const showTab = mountTabs([chat, images, createPersonalizeTab(openImages), models], nav, panels);
}

main();
