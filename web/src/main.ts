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
  const personalize = createPersonalizeTab((model, prompt) => {
    void images.use(model, prompt).then(() => showTab('images'));
  });
  const showTab = mountTabs([createChatTab(), images, personalize, createModelsTab()], nav, panels);
}

main();
